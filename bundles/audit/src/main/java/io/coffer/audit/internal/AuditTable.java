package io.coffer.audit.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import io.coffer.api.audit.AuditEvent;

/** Batch inserts into {@code audit_events}; the event id is the key, so a batch written twice is stored once. */
final class AuditTable {
    private static final String INSERT = "INSERT INTO audit_events (id, at, msgid, priority, request_id, client_ip,"
            + " role_id, resource_id, operation, success, structured_data, message, line, account, node, seq)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

    private AuditTable() {
    }

    /**
     * @return {@code false} when the database is a replica (in recovery): nothing was written, the events are not
     *     for this node's table
     */
    static boolean insert(DataSource ds, List<AuditEvent> batch) throws SQLException {
        List<Formatted> f = new java.util.ArrayList<>(batch.size());
        for (AuditEvent e : batch) {
            f.add(Formatted.of(e));
        }
        return insertFormatted(ds, f, null);
    }

    /**
     * The same, for events the writer has already rendered for the files.
     *
     * @param node the writing node, with each event's place in its chain ({@code null}: not chained)
     */
    static boolean insertFormatted(DataSource ds, List<Formatted> batch, String node) throws SQLException {
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                if (rs.next() && rs.getBoolean(1)) {
                    return false;
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                for (Formatted f : batch) {
                    AuditEvent e = f.event();
                    ps.setObject(1, e.id());
                    ps.setObject(2, OffsetDateTime.ofInstant(e.time(), ZoneOffset.UTC));
                    ps.setString(3, e.msgid());
                    ps.setShort(4, (short) e.priority());
                    ps.setString(5, e.requestId());
                    ps.setString(6, e.clientIp());
                    ps.setString(7, e.user());
                    ps.setString(8, e.structuredData().getOrDefault(AuditEvent.SUBJECT, Map.of())
                            .get("resource"));
                    ps.setString(9, e.operation());
                    ps.setBoolean(10, e.success());
                    ps.setString(11, f.structuredData());
                    ps.setString(12, Rfc5424.stripControls(e.message()));
                    ps.setString(13, f.line());
                    ps.setString(14, account(e));
                    ps.setString(15, node);
                    if (node != null && f.seq() > 0) {
                        ps.setLong(16, f.seq());
                    } else {
                        ps.setNull(16, java.sql.Types.BIGINT);
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            return true;
        }
    }

    /**
     * The account an event belongs to (the {@code /audit} routes' scope): that of the first full id among the acting
     * role, the subject's role and resource, the policy, and the authenticator's service (an authentication whose
     * role is {@code not-found} still belongs to the account it was tried in). {@code null} for node events
     * (checkpoints).
     */
    static String account(AuditEvent e) {
        Map<String, String> subject = e.structuredData().getOrDefault(AuditEvent.SUBJECT, Map.of());
        Map<String, String> policy = e.structuredData().getOrDefault(AuditEvent.POLICY, Map.of());
        Map<String, String> auth = e.structuredData().getOrDefault(AuditEvent.AUTH, Map.of());
        for (String id : new String[] {e.user(), subject.get("role"), subject.get("resource"), policy.get("id"),
                auth.get("service")}) {
            int colon = id == null ? -1 : id.indexOf(':');
            if (colon > 0) {
                return id.substring(0, colon);
            }
        }
        return null;
    }
}
