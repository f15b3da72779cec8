package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.UriInfo;

import org.junit.Test;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.election.Leadership;

public class LeaderGateTest {
    private volatile NodeRole role = NodeRole.LEADER;
    private volatile boolean holds = true;

    private final NodeIdentity node = new NodeIdentity() {
        public String name() { return "n1"; }
        public NodeRole role() { return role; }
        public Instant startedAt() { return Instant.EPOCH; }
    };

    private final Leadership leadership = new Leadership() {
        public long epoch() { return 42; }
        public boolean holdsLeadership() { return holds; }
        public Optional<String> leader() { return Optional.of("n2"); }
        public Map<String, Map<String, Object>> members() { return Map.of(); }
        public boolean recordSynchronous(String applicationName) { return false; }
    };

    /** @return the response the gate aborted with, or null when it let the request through */
    private Response filter(LeaderGate gate, String method, String path) {
        AtomicReference<Response> aborted = new AtomicReference<>();
        UriInfo uri = (UriInfo) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {UriInfo.class},
                (p, m, a) -> m.getName().equals("getRequestUri") ? URI.create("https://127.0.0.1" + path) : null);
        ContainerRequestContext ctx = (ContainerRequestContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ContainerRequestContext.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getMethod": return method;
                        case "getUriInfo": return uri;
                        case "abortWith": aborted.set((Response) a[0]); return null;
                        default: return null;
                    }
                });
        gate.filter(ctx);
        return aborted.get();
    }

    @Test
    public void aLeaderWithoutTheLeaderKeyRefusesWritesWithAJsonError() {
        LeaderGate gate = new LeaderGate(node, () -> leadership);
        assertNull(filter(gate, "POST", "/secrets/demo/variable/x"));
        holds = false;
        Response r = filter(gate, "POST", "/secrets/demo/variable/x");
        assertEquals(503, r.getStatus());
        String body = String.valueOf(r.getEntity());
        assertTrue(body, body.contains("not_leader") && body.contains("n2"));
        assertEquals(503, filter(gate, "PUT", "/authn/demo/api_key").getStatus());
        assertNull("reads pass", filter(gate, "GET", "/secrets/demo/variable/x"));
        assertNull("authenticate is a read", filter(gate, "POST", "/authn/demo/admin/authenticate"));
    }

    @Test
    public void withoutElectionTheRoleAloneDecides() {
        holds = false;
        assertNull(filter(new LeaderGate(node, () -> null), "POST", "/secrets/demo/variable/x"));
        role = NodeRole.FOLLOWER;
        assertNull("the Follower's 405 is RoleGate's", filter(new LeaderGate(node, () -> leadership), "POST", "/x"));
    }
}
