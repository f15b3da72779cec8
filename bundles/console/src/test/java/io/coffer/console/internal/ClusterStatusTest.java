package io.coffer.console.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;

public class ClusterStatusTest {
    @Test
    @SuppressWarnings("unchecked")
    public void aLeaderListsItselfAndEachReplicaOfPgStatReplication() {
        Map<String, Object> replication = new LinkedHashMap<>();
        replication.put("mode", "primary");
        replication.put("replicas", List.of(
                Map.of("name", "standby_n2", "state", "streaming", "sync_state", "sync", "lag_seconds", 0.2,
                        "lag_bytes", 0L),
                Map.of("name", "dr_standby_n4", "state", "streaming", "sync_state", "async", "lag_seconds", 1.5,
                        "lag_bytes", 800L)));
        Map<String, Object> election = new LinkedHashMap<>();
        election.put("holds_leadership", true);
        election.put("leader", "n1");
        election.put("epoch", 7L);
        election.put("members", List.of("n1", "n2", "n3"));
        election.put("etcd", "reachable");
        Map<String, ComponentHealth> checks = new LinkedHashMap<>();
        checks.put("replication", ComponentHealth.ok(replication));
        checks.put("election", ComponentHealth.ok(election));
        checks.put("keys", ComponentHealth.ok(Map.of("state", "unlocked", "unlocked", true)));
        Map<String, Object> s = ClusterStatus.of(new HealthReport("n1", NodeRole.LEADER, 60, checks, true),
                Instant.EPOCH);
        List<Map<String, Object>> nodes = (List<Map<String, Object>>) s.get("nodes");
        assertEquals(3, nodes.size());
        assertEquals(List.of("n1", "leader", true, true), List.of(nodes.get(0).get("name"), nodes.get(0).get("role"),
                nodes.get(0).get("self"), nodes.get(0).get("healthy")));
        assertEquals(List.of("n2", "standby", "sync", 0.2), List.of(nodes.get(1).get("name"), nodes.get(1).get("role"),
                nodes.get(1).get("sync_state"), nodes.get(1).get("lag_seconds")));
        assertEquals(List.of("n4", "dr-standby", 800L), List.of(nodes.get(2).get("name"), nodes.get(2).get("role"),
                nodes.get(2).get("lag_bytes")));
        assertEquals("n1", ((Map<String, Object>) s.get("election")).get("leader"));
        assertEquals(Map.of("state", "unlocked", "unlocked", true), s.get("keys"));
    }

    @Test
    @SuppressWarnings("unchecked")
    public void aReplicaShowsItsOwnLagAndNoElection() {
        Map<String, Object> replication = new LinkedHashMap<>();
        replication.put("mode", "replica");
        replication.put("streaming", true);
        replication.put("lag_seconds", 0.4);
        Map<String, Object> s = ClusterStatus.of(new HealthReport("f1", NodeRole.FOLLOWER, 5,
                Map.of("replication", ComponentHealth.ok(replication)), true), Instant.EPOCH);
        Map<String, Object> self = ((List<Map<String, Object>>) s.get("nodes")).get(0);
        assertEquals("follower", self.get("role"));
        assertEquals(0.4, self.get("lag_seconds"));
        assertEquals(true, self.get("streaming"));
        assertNull(s.get("election"));
    }
}
