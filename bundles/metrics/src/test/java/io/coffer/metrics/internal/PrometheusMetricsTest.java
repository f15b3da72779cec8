package io.coffer.metrics.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.After;
import org.junit.Test;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;

public class PrometheusMetricsTest {
    /** One sample line of the text format 0.0.4: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\",?)*)\\})? "
                    + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( -?[0-9]+)?$");

    private final PrometheusMetrics metrics = new PrometheusMetrics();
    private volatile Map<String, ComponentHealth> checks = new LinkedHashMap<>();
    private volatile NodeRole role = NodeRole.FOLLOWER;

    @After
    public void stop() {
        metrics.deactivate();
    }

    private Map<String, Double> scrape() throws Exception {
        metrics.health = () -> new HealthReport("n1", role, 7, checks, true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        String text = out.toString(StandardCharsets.UTF_8);
        if (System.getProperty("dump") != null) {
            System.err.println(text);
        }
        Map<String, Double> samples = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                assertTrue(line, line.startsWith("# HELP ") || line.startsWith("# TYPE "));
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue("not a 0.0.4 sample line: " + line, m.matches());
            String key = m.group(1) + (m.group(3) == null ? "" : "{" + m.group(3) + "}");
            samples.put(key, Double.parseDouble(m.group(4).replace("+Inf", "Infinity")));
        }
        return samples;
    }

    @Test
    public void requestsAreCountedByRouteTemplateAndTheExpositionParses() throws Exception {
        metrics.activate();
        for (int i = 0; i < 3; i++) {
            metrics.request("GET", "/secrets/{account}/{kind}/{id}", 200, 1_000_000);
        }
        metrics.request("GET", "/secrets/{account}/{kind}/{id}", 403, 2_000_000);
        metrics.request("POST", "/secrets/{account}/{kind}/{id}", 201, 3_000_000);
        metrics.request("POST", "/authn/{account}/{login}/authenticate", 200, 3_000_000);
        metrics.request("POST", "/authn/{account}/{login}/authenticate", 401, 3_000_000);
        metrics.request("PUT", "/policies/{account}/policy/{id}", 201, 30_000_000);
        metrics.request("GET", "unmatched", 404, 1_000);
        Map<String, Double> s = scrape();
        assertEquals(3.0, s.get("coffer_http_requests_total{method=\"GET\","
                + "route=\"/secrets/{account}/{kind}/{id}\",status=\"200\"}"), 0);
        assertEquals(3.0, s.get("coffer_http_request_duration_seconds_count{method=\"GET\","
                + "route=\"/secrets/{account}/{kind}/{id}\",status=\"200\"}"), 0);
        assertEquals(3.0, s.get("coffer_http_request_duration_seconds_bucket{method=\"GET\","
                + "route=\"/secrets/{account}/{kind}/{id}\",status=\"200\",le=\"0.001\"}"), 0);
        assertEquals(3.0, s.get("coffer_secret_reads_total{outcome=\"success\"}"), 0);
        assertEquals(1.0, s.get("coffer_secret_reads_total{outcome=\"denied\"}"), 0);
        assertEquals(1.0, s.get("coffer_secret_writes_total{outcome=\"success\"}"), 0);
        assertEquals(1.0, s.get("coffer_authentications_total{authenticator=\"authn\",outcome=\"success\"}"), 0);
        assertEquals(1.0, s.get("coffer_authentications_total{authenticator=\"authn\",outcome=\"denied\"}"), 0);
        assertEquals(1.0, s.get("coffer_policy_loads_total{method=\"PUT\",outcome=\"success\"}"), 0);
        assertEquals(1.0, s.get("coffer_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"), 0);
        assertTrue("JVM basics", s.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")));
        assertNotNull(s.get("coffer_node_role{role=\"follower\"}"));
    }

    @Test
    public void replicationLagAuditAndKeysComeFromTheHealthReport() throws Exception {
        Map<String, Object> replica = new LinkedHashMap<>();
        replica.put("mode", "replica");
        replica.put("streaming", true);
        replica.put("replay_paused", true);
        replica.put("lag_seconds", 12.5);
        checks.put("replication", ComponentHealth.ok(replica));
        Map<String, Object> shipping = new LinkedHashMap<>();
        shipping.put("backlog", 4L);
        shipping.put("errors", 2);
        Map<String, Object> audit = new LinkedHashMap<>();
        audit.put("queue_depth", 3);
        audit.put("shipping", shipping);
        checks.put("audit", ComponentHealth.ok(audit));
        checks.put("keys", ComponentHealth.failed(Map.of("state", "locked", "unlocked", false)));
        Map<String, Double> s = scrape();
        assertEquals(12.5, s.get("coffer_replication_lag_seconds"), 0);
        assertEquals(1.0, s.get("coffer_replication_replay_paused"), 0);
        assertEquals(1.0, s.get("coffer_node_role{role=\"follower\"}"), 0);
        assertEquals(0.0, s.get("coffer_node_role{role=\"leader\"}"), 0);
        assertEquals(3.0, s.get("coffer_audit_queue_depth"), 0);
        assertEquals(4.0, s.get("coffer_audit_shipping_backlog"), 0);
        assertEquals(2.0, s.get("coffer_audit_shipping_errors_total"), 0);
        assertEquals(0.0, s.get("coffer_keys_unlocked"), 0);
        assertEquals(0.0, s.get("coffer_health_check_ok{check=\"keys\"}"), 0);
        assertEquals(0.0, s.get("coffer_health_ok"), 0);

        role = NodeRole.LEADER;
        Map<String, Object> primary = new LinkedHashMap<>();
        primary.put("mode", "primary");
        primary.put("replicas", List.of(
                Map.of("name", "standby_b", "sync_state", "sync", "lag_seconds", 0.2, "lag_bytes", 100L),
                Map.of("name", "follower_f", "sync_state", "async", "lag_seconds", 3.0, "lag_bytes", 9000L)));
        Map<String, Object> election = new LinkedHashMap<>();
        election.put("holds_leadership", true);
        election.put("epoch", 42L);
        election.put("etcd", "reachable");
        election.put("lease_renewals", 17L);
        election.put("lease_renewal_failures", 2L);
        checks = new LinkedHashMap<>(Map.of("replication", ComponentHealth.ok(primary), "election",
                ComponentHealth.ok(election)));
        s = scrape();
        assertEquals(17.0, s.get("coffer_election_lease_renewals_total"), 0);
        assertEquals(2.0, s.get("coffer_election_lease_renewal_failures_total"), 0);
        assertEquals(1.0, s.get("coffer_election_holds_leadership"), 0);
        assertEquals(3.0, s.get("coffer_replication_replica_lag_seconds{replica=\"follower_f\"}"), 0);
        assertEquals(9000.0, s.get("coffer_replication_replica_lag_bytes{replica=\"follower_f\"}"), 0);
        assertEquals(1.0, s.get("coffer_replication_replica_synchronous{replica=\"standby_b\"}"), 0);
        assertEquals(2.0, s.get("coffer_replication_replicas"), 0);
        assertFalse("a Leader has no lag of its own", s.containsKey("coffer_replication_lag_seconds"));
    }

    @Test
    public void roleAndLeadershipChangesAreCounted() throws Exception {
        NodeRole[] now = {NodeRole.STANDBY};
        metrics.node = new io.coffer.api.NodeIdentity() {
            public String name() {
                return "n1";
            }

            public NodeRole role() {
                return now[0];
            }

            public java.time.Instant startedAt() {
                return java.time.Instant.EPOCH;
            }
        };
        metrics.sample();
        now[0] = NodeRole.LEADER;
        metrics.sample();
        metrics.sample();
        assertEquals(1.0, scrape().get("coffer_role_changes_total{role=\"leader\"}"), 0);
    }

    @Test
    public void outcomes() {
        assertEquals("success", PrometheusMetrics.outcome(204));
        assertEquals("denied", PrometheusMetrics.outcome(401));
        assertEquals("rejected", PrometheusMetrics.outcome(422));
        assertEquals("error", PrometheusMetrics.outcome(503));
    }
}
