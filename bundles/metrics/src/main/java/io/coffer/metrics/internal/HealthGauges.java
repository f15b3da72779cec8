package io.coffer.metrics.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;

/**
 * Gauges read from the node's health report at scrape time (one report per scrape): role, each check, replication
 * lag (a replica's own; a Leader's per replica), election, audit queue and shipping, key-lock state. A detail a check
 * does not report (another role, a bundle not installed) is simply absent from the scrape.
 */
final class HealthGauges implements MultiCollector {
    private final Supplier<HealthReport> health;

    /** @param health the current report, or {@code null} while the node has none */
    HealthGauges(Supplier<HealthReport> health) {
        this.health = health;
    }

    @Override
    public MetricSnapshots collect() {
        HealthReport r;
        try {
            r = health.get();
        } catch (RuntimeException e) {
            r = null;
        }
        List<MetricSnapshot> out = new ArrayList<>();
        if (r == null) {
            out.add(gauge("coffer_health_ok", "1 when the node is ready and every health check passes", 0));
            return new MetricSnapshots(out);
        }
        out.add(gauge("coffer_health_ok", "1 when the node is ready and every health check passes", r.ok() ? 1 : 0));
        out.add(gauge("coffer_node_uptime_seconds", "Seconds since the node started", r.uptimeSeconds()));
        GaugeSnapshot.Builder role = GaugeSnapshot.builder().name("coffer_node_role")
                .help("The node's role: 1 for the role it has, 0 for the others");
        for (NodeRole each : NodeRole.values()) {
            role.dataPoint(point(each == r.role() ? 1 : 0, "role", each.id()));
        }
        out.add(role.build());
        GaugeSnapshot.Builder checks = GaugeSnapshot.builder().name("coffer_health_check_ok")
                .help("1 when the named health check passes");
        r.components().forEach((name, c) -> checks.dataPoint(point(c.ok() ? 1 : 0, "check", name)));
        out.add(checks.build());
        replication(r.components().get("replication"), out);
        election(r.components().get("election"), out);
        audit(r.components().get("audit"), out);
        ComponentHealth keys = r.components().get("keys");
        if (keys != null) {
            out.add(gauge("coffer_keys_unlocked", "1 when the node's keys are unlocked (it can open secrets)",
                    Boolean.TRUE.equals(keys.details().get("unlocked")) ? 1 : 0));
        }
        return new MetricSnapshots(out);
    }

    private static void replication(ComponentHealth c, List<MetricSnapshot> out) {
        if (c == null) {
            return;
        }
        Map<String, Object> d = c.details();
        Double lag = number(d.get("lag_seconds"));
        if (lag != null) {
            out.add(gauge("coffer_replication_lag_seconds",
                    "This replica's lag: the age of the newest Leader heartbeat it has applied", lag));
        }
        if (d.get("replay_paused") instanceof Boolean) {
            out.add(gauge("coffer_replication_replay_paused", "1 while this replica's WAL replay is paused",
                    (Boolean) d.get("replay_paused") ? 1 : 0));
        }
        if (d.get("streaming") instanceof Boolean) {
            out.add(gauge("coffer_replication_streaming", "1 while this replica streams from its upstream",
                    (Boolean) d.get("streaming") ? 1 : 0));
        }
        if (d.get("replicas") instanceof Collection) {
            GaugeSnapshot.Builder seconds = GaugeSnapshot.builder().name("coffer_replication_replica_lag_seconds")
                    .help("Per replica streaming from this node: its replay lag as PostgreSQL reports it");
            GaugeSnapshot.Builder bytes = GaugeSnapshot.builder().name("coffer_replication_replica_lag_bytes")
                    .help("Per replica streaming from this node: WAL bytes written here and not yet replayed there");
            GaugeSnapshot.Builder sync = GaugeSnapshot.builder().name("coffer_replication_replica_synchronous")
                    .help("Per replica streaming from this node: 1 for the synchronous Standby");
            int n = 0;
            for (Object o : (Collection<?>) d.get("replicas")) {
                if (!(o instanceof Map) || ((Map<?, ?>) o).get("name") == null) {
                    continue;
                }
                Map<?, ?> replica = (Map<?, ?>) o;
                String name = String.valueOf(replica.get("name"));
                n++;
                Double s = number(replica.get("lag_seconds"));
                if (s != null) {
                    seconds.dataPoint(point(s, "replica", name));
                }
                Double b = number(replica.get("lag_bytes"));
                if (b != null) {
                    bytes.dataPoint(point(b, "replica", name));
                }
                sync.dataPoint(point("sync".equals(replica.get("sync_state")) ? 1 : 0, "replica", name));
            }
            out.add(gauge("coffer_replication_replicas", "Replicas streaming from this node", n));
            out.add(seconds.build());
            out.add(bytes.build());
            out.add(sync.build());
        }
    }

    private static void election(ComponentHealth c, List<MetricSnapshot> out) {
        if (c == null) {
            return;
        }
        Map<String, Object> d = c.details();
        out.add(gauge("coffer_election_holds_leadership", "1 while this node holds the etcd leader key",
                Boolean.TRUE.equals(d.get("holds_leadership")) ? 1 : 0));
        Double epoch = number(d.get("epoch"));
        if (epoch != null) {
            out.add(gauge("coffer_election_epoch", "The leadership epoch this node knows", epoch));
        }
        Object etcd = d.get("etcd");
        out.add(gauge("coffer_election_etcd_reachable", "1 while etcd answered within three lease TTLs",
                etcd != null && String.valueOf(etcd).startsWith("reachable") ? 1 : 0));
        if (d.get("members") instanceof Collection) {
            out.add(gauge("coffer_election_members", "Cluster members registered in etcd",
                    ((Collection<?>) d.get("members")).size()));
        }
        add(out, "coffer_election_lease_renewals", "Leader lease renewals etcd acknowledged since start",
                d.get("lease_renewals"), true);
        add(out, "coffer_election_lease_renewal_failures", "Leader lease renewals that failed (no answer in time, "
                + "or the lease gone) since start", d.get("lease_renewal_failures"), true);
    }

    private static void audit(ComponentHealth c, List<MetricSnapshot> out) {
        if (c == null) {
            return;
        }
        Map<String, Object> d = c.details();
        add(out, "coffer_audit_queue_depth", "Audit events queued, not yet written", d.get("queue_depth"), false);
        add(out, "coffer_audit_queue_capacity", "The audit queue's capacity", d.get("queue_capacity"), false);
        add(out, "coffer_audit_written", "Audit events written since start", d.get("written"), true);
        add(out, "coffer_audit_rejected", "Audit events refused (queue full) since start", d.get("rejected"), true);
        add(out, "coffer_audit_errors", "Audit write errors since start", d.get("errors"), true);
        if (d.get("shipping") instanceof Map) {
            Map<?, ?> s = (Map<?, ?>) d.get("shipping");
            add(out, "coffer_audit_shipping_backlog", "Audit lines written here and not yet acknowledged by the "
                    + "destination", s.get("backlog"), false);
            add(out, "coffer_audit_shipped", "Audit lines shipped since start", s.get("shipped"), true);
            add(out, "coffer_audit_shipping_errors", "Audit shipping errors since start", s.get("errors"), true);
        }
    }

    private static void add(List<MetricSnapshot> out, String name, String help, Object value, boolean counter) {
        Double v = number(value);
        if (v == null) {
            return;
        }
        if (counter) {
            out.add(CounterSnapshot.builder().name(name).help(help)
                    .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(v).build()).build());
        } else {
            out.add(gauge(name, help, v));
        }
    }

    private static Double number(Object o) {
        return o instanceof Number ? ((Number) o).doubleValue() : null;
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static GaugeSnapshot.GaugeDataPointSnapshot point(double value, String label, String labelValue) {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(label, labelValue))
                .build();
    }
}
