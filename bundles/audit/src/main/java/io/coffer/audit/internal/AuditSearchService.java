package io.coffer.audit.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.audit.AuditSearch;
import io.coffer.api.store.Database;

/** {@link AuditSearch} over {@code audit_events}, newest first (indexes of migration V7). */
@Component(service = AuditSearch.class)
public class AuditSearchService implements AuditSearch {
    private final Database db;

    @Activate
    public AuditSearchService(@Reference Database db) {
        this.db = db;
    }

    @Override
    public List<Map<String, Object>> search(String account, Map<String, List<String>> filters) {
        AuditQuery q = AuditQuery.parse(account, filters);
        String sql = "SELECT id, at, priority, request_id, msgid, structured_data::text, message, node, seq "
                + "FROM audit_events WHERE " + q.where() + " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?";
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            for (Object p : q.params()) {
                ps.setObject(i++, p);
            }
            ps.setInt(i++, q.limit);
            ps.setInt(i, q.offset);
            List<Map<String, Object>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("audit events unavailable: " + e.getSQLState(), e);
        }
    }

    /** One event in the shape of Conjur's audit API (its messages table), plus the id and chain position. */
    private static Map<String, Object> row(ResultSet rs) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        int priority = rs.getShort(3);
        m.put("id", rs.getString(1));
        m.put("facility", priority / 8);
        m.put("severity", priority % 8);
        Timestamp at = rs.getTimestamp(2);
        m.put("timestamp", Rfc5424.TIMESTAMP.format(at.toInstant()));
        m.put("hostname", rs.getString(8)); // the node that recorded it, as the SIEM export names it
        m.put("appname", "conjur");
        m.put("procid", rs.getString(4));
        m.put("msgid", rs.getString(5));
        m.put("sdata", Json.parse(rs.getString(6)));
        m.put("message", rs.getString(7));
        m.put("node", rs.getString(8));
        long seq = rs.getLong(9);
        m.put("seq", rs.wasNull() ? null : seq);
        return m;
    }
}
