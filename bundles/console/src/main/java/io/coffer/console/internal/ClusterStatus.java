package io.coffer.console.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;

/**
 * The cluster as this node sees it, built from its health report only: the replication check (on the Leader, one row
 * per replica from {@code pg_stat_replication}; on a replica, its own stream and lag), the election check (who holds
 * the leader key in etcd, the epoch, the members) and the key state. Nothing is queried twice.
 */
final class ClusterStatus {
    private ClusterStatus() {
    }

    static Map<String, Object> of(HealthReport r, Instant now) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sampled_at", now.toString());
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("name", r.node());
        self.put("role", r.role().id());
        self.put("self", true);
        self.put("healthy", r.ok());
        self.put("uptime_seconds", r.uptimeSeconds());
        Map<String, Object> checks = new LinkedHashMap<>();
        r.components().forEach((k, v) -> checks.put(k, v.ok()));
        out.put("checks", checks);
        Map<String, Object> replication = details(r, "replication");
        Map<String, Object> election = details(r, "election");
        Map<String, Object> keys = details(r, "keys");
        out.put("keys", keys == null ? null : Map.of("state", String.valueOf(keys.get("state")),
                "unlocked", Boolean.TRUE.equals(keys.get("unlocked"))));
        List<Map<String, Object>> nodes = new ArrayList<>();
        nodes.add(self);
        if (replication != null) {
            self.put("mode", replication.get("mode"));
            if ("replica".equals(replication.get("mode"))) {
                self.put("lag_seconds", replication.get("lag_seconds"));
                self.put("streaming", replication.get("streaming"));
                self.put("upstream", replication.get("upstream"));
            } else {
                self.put("lag_seconds", 0.0);
            }
            Object replicas = replication.get("replicas");
            if (replicas instanceof List) {
                for (Object o : (List<?>) replicas) {
                    if (o instanceof Map) {
                        nodes.add(replica((Map<?, ?>) o));
                    }
                }
            }
        }
        out.put("nodes", nodes);
        out.put("replication", replication);
        if (election != null) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("leader", election.get("leader"));
            e.put("epoch", election.get("epoch"));
            e.put("holds_leadership", election.get("holds_leadership"));
            e.put("synchronous_standby", election.get("synchronous_standby"));
            e.put("members", election.get("members"));
            e.put("etcd", election.get("etcd"));
            e.put("etcd_leader", election.get("etcd_leader"));
            out.put("election", e);
        } else {
            out.put("election", null);
        }
        return out;
    }

    /** A row of {@code pg_stat_replication}: its application name is {@code <role>_<name>} (architecture 34). */
    private static Map<String, Object> replica(Map<?, ?> row) {
        Map<String, Object> n = new LinkedHashMap<>();
        String app = String.valueOf(row.get("name"));
        String role = "replica";
        String name = app;
        for (String r : new String[] {"dr_standby", "standby", "follower"}) {
            if (app.startsWith(r + "_")) {
                role = r.replace('_', '-');
                name = app.substring(r.length() + 1);
                break;
            }
        }
        n.put("name", name);
        n.put("role", role);
        n.put("self", false);
        n.put("state", row.get("state"));
        n.put("sync_state", row.get("sync_state"));
        n.put("lag_seconds", row.get("lag_seconds"));
        n.put("lag_bytes", row.get("lag_bytes"));
        return n;
    }

    private static Map<String, Object> details(HealthReport r, String check) {
        ComponentHealth c = r.components().get(check);
        return c == null ? null : c.details();
    }
}
