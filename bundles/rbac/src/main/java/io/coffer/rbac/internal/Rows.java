package io.coffer.rbac.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Query results as the JSON Conjur sends: timestamps with millis and offset, Conjur's field names. */
final class Rows {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx");

    private Rows() {
    }

    /** Rows as JSON-ready maps; {@code resource_id}/{@code owner_id}/{@code policy_id} get Conjur's names. */
    static List<Map<String, Object>> query(Connection c, String sql, List<?> args) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 1; i <= n; i++) {
                        String name = rs.getMetaData().getColumnLabel(i);
                        Object v = rs.getObject(i);
                        if (v instanceof java.sql.Timestamp) {
                            v = TIME.format(((java.sql.Timestamp) v).toInstant().atOffset(ZoneOffset.UTC));
                        } else if (v instanceof java.time.OffsetDateTime) {
                            v = TIME.format(((java.time.OffsetDateTime) v).withOffsetSameInstant(ZoneOffset.UTC));
                        }
                        switch (name) {
                            case "resource_id": name = "id"; break;
                            case "owner_id": name = "owner"; break;
                            case "policy_id": name = "policy"; break;
                            default: break;
                        }
                        if (!(name.equals("policy") && v == null)) {
                            m.put(name, v);
                        }
                    }
                    out.add(m);
                }
            }
        }
        return out;
    }
}
