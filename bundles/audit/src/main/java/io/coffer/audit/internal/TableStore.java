package io.coffer.audit.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.AuditStore;

/**
 * {@code audit_events} as the destination of nodes' chains: the node's own shipper and the Leader's receiver both
 * store through it. Lines are checked before anything is written (each one the writer's form, consecutive), and a
 * batch is one transaction, so each node's stored events are always a prefix of its chain.
 */
final class TableStore implements AuditStore {
    private static final Logger LOG = LoggerFactory.getLogger(TableStore.class);
    private final Supplier<DataSource> database;

    TableStore(Supplier<DataSource> database) {
        this.database = database;
    }

    @Override
    public long storedSeq(String node) throws AuditStoreException {
        DataSource ds = dataSource();
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT pg_is_in_recovery(), (SELECT max(seq) FROM audit_events WHERE node = ?)")) {
            ps.setString(1, node);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    throw new AuditStoreException(AuditStoreException.NOT_LEADER, "this database is a replica", null);
                }
                return rs.getLong(2);
            }
        } catch (SQLException e) {
            throw new AuditStoreException(AuditStoreException.UNAVAILABLE, "audit table: " + e.getMessage(), e);
        }
    }

    @Override
    public long store(String node, List<String> lines) throws AuditStoreException {
        if (lines.isEmpty()) {
            return storedSeq(node);
        }
        List<Formatted> events = new ArrayList<>(lines.size());
        long previous = -1;
        for (String line : lines) {
            Formatted f;
            try {
                f = ChainedLine.parse(line);
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new AuditStoreException(AuditStoreException.BAD_LINES,
                        "line " + (events.size() + 1) + " of the batch: " + e.getMessage(), e);
            }
            if (previous >= 0 && f.seq() != previous + 1) {
                throw new AuditStoreException(AuditStoreException.BAD_LINES,
                        "seq " + f.seq() + " follows " + previous + ": lines must be consecutive", null);
            }
            previous = f.seq();
            events.add(f);
        }
        DataSource ds = dataSource();
        try {
            if (!AuditTable.insertFormatted(ds, events, node)) {
                throw new AuditStoreException(AuditStoreException.NOT_LEADER, "this database is a replica", null);
            }
        } catch (SQLException e) {
            throw new AuditStoreException(AuditStoreException.UNAVAILABLE, "audit table: " + e.getMessage(), e);
        }
        LOG.debug("stored {} audit events of {} up to seq {}", events.size(), node, previous);
        return previous;
    }

    private DataSource dataSource() throws AuditStoreException {
        DataSource ds = database.get();
        if (ds == null) {
            throw new AuditStoreException(AuditStoreException.UNAVAILABLE, "no audit database on this node", null);
        }
        return ds;
    }
}
