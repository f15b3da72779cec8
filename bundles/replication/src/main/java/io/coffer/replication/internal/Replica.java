package io.coffer.replication.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A replica's side: where it streams from, whether it does, and its lag — the age of the newest Leader heartbeat
 * it has applied, so an idle cluster shows none and a replica whose upstream is gone shows how stale it is.
 */
final class Replica {
    Map<String, Object> tick(Connection c) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_last_wal_receive_lsn()::text, "
                + "pg_last_wal_replay_lsn()::text, pg_is_wal_replay_paused(), "
                + "(SELECT status FROM pg_stat_wal_receiver), "
                + "(SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver), "
                + "(SELECT extract(epoch FROM now() - beat_at) FROM heartbeat WHERE id = 1), "
                + "(SELECT node FROM heartbeat WHERE id = 1), current_setting('primary_conninfo')")) {
            rs.next();
            String receiver = rs.getString(4);
            m.put("streaming", "streaming".equals(receiver));
            m.put("upstream", rs.getString(5));
            // Where it is pointed, streaming or not (the receiver's view above is empty while it can't connect).
            m.put("pointed_at", pointedAt(rs.getString(8)));
            m.put("received_lsn", rs.getString(1));
            m.put("replayed_lsn", rs.getString(2));
            m.put("replay_paused", rs.getBoolean(3));
            m.put("lag_seconds", rs.getObject(6) == null ? null : Math.max(0.0, rs.getDouble(6)));
            m.put("leader", rs.getString(7));
            if (!"streaming".equals(receiver)) {
                m.put("degraded", "not streaming from the upstream: serving what was replicated");
            }
        }
        return m;
    }

    /** @return {@code host:port} of a primary_conninfo Coffer wrote, or {@code null} */
    static String pointedAt(String conninfo) {
        if (conninfo == null) {
            return null;
        }
        java.util.regex.Matcher h = java.util.regex.Pattern.compile("(?:^|\\s)host=([A-Za-z0-9.:-]+)").matcher(conninfo);
        java.util.regex.Matcher p = java.util.regex.Pattern.compile("(?:^|\\s)port=([0-9]+)").matcher(conninfo);
        return h.find() && p.find() ? h.group(1) + ":" + p.group(1) : null;
    }
}
