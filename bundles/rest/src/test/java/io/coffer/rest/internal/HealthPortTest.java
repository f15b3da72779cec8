package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.annotation.Annotation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import org.junit.After;
import org.junit.Test;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;

public class HealthPortTest {
    private HealthPort port;
    private volatile boolean dbOk = true;
    private volatile NodeRole role = NodeRole.LEADER;
    /** null: no election (standalone); else whether election's check says this node holds the leader key */
    private volatile Boolean holdsKey;

    private HealthPort start() throws Exception {
        port = new HealthPort(() -> {
            Map<String, ComponentHealth> checks = new java.util.HashMap<>();
            checks.put("database", dbOk ? ComponentHealth.ok(Map.of("version", "15.18"))
                    : ComponentHealth.failed(Map.of("error", "down")));
            if (holdsKey != null) {
                checks.put("election", ComponentHealth.ok(Map.of("holds_leadership", holdsKey)));
            }
            return new HealthReport("n1", role, 5, checks, true);
        },
                new HealthPort.Config() {
                    public Class<? extends Annotation> annotationType() { return HealthPort.Config.class; }
                    public String health_address() { return "127.0.0.1"; }
                    public int health_port() { return 0; }
                });
        return port;
    }

    @After
    public void stop() throws Exception {
        if (port != null) {
            port.deactivate();
        }
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.localPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void healthRoutesFollowRoleAndDatabase() throws Exception {
        start();
        HttpResponse<String> r = send("GET", "/health");
        assertEquals(200, r.statusCode());
        assertTrue(r.body(), r.body().contains("\"role\":\"leader\""));
        assertTrue(r.body(), r.body().contains("\"version\":\"15.18\""));
        assertEquals(200, send("GET", "/health/leader").statusCode());
        assertEquals(502, send("GET", "/health/replica").statusCode());
        role = NodeRole.FOLLOWER;
        assertEquals(502, send("GET", "/health/leader").statusCode());
        assertEquals(200, send("GET", "/health/replica").statusCode());
        dbOk = false;
        assertEquals(502, send("GET", "/health").statusCode());
        assertEquals(502, send("GET", "/health/replica").statusCode());
        assertEquals("liveness ignores the database", 200, send("GET", "/health/live").statusCode());
    }

    @Test
    public void inAnAutoFailoverClusterOnlyTheHolderOfTheLeaderKeyIsTheLeader() throws Exception {
        start();
        holdsKey = true;
        assertEquals(200, send("GET", "/health/leader").statusCode());
        holdsKey = false;
        assertEquals("a Leader without the key is no Leader to a load balancer", 502,
                send("GET", "/health/leader").statusCode());
        assertEquals("... though still a healthy node", 200, send("GET", "/health").statusCode());
        role = NodeRole.STANDBY;
        holdsKey = true;
        assertEquals("a Standby holding the key is not the Leader until promoted", 502,
                send("GET", "/health/leader").statusCode());
    }

    @Test
    public void nothingButHealthIsServedInCleartext() throws Exception {
        start();
        for (String path : new String[] {"/secrets/demo/variable/x", "/authn/demo/login", "/", "/health/../secrets",
                "/healthz", "/cxf", "/system/console"}) {
            HttpResponse<String> r = send("GET", path);
            assertEquals(path, 404, r.statusCode());
            assertTrue(r.body(), r.body().contains("\"code\":\"not_found\""));
        }
        HttpResponse<String> post = send("POST", "/health");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    }

    @Test
    public void busyPortGivesAClearMessage() throws Exception {
        start();
        int busy = port.localPort();
        try {
            new HealthPort(() -> new HealthReport("n1", NodeRole.LEADER, 0, Map.of(), true), new HealthPort.Config() {
                public Class<? extends Annotation> annotationType() { return HealthPort.Config.class; }
                public String health_address() { return "127.0.0.1"; }
                public int health_port() { return busy; }
            });
            org.junit.Assert.fail("second server bound a busy port");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("already in use"));
        }
    }

    @Test
    public void metricsAreServedAsPrometheusTextOnlyWhenTheMetricsBundleRuns() throws Exception {
        start();
        assertEquals("no metrics bundle", 503, send("GET", "/metrics").statusCode());
        port.metrics = new io.coffer.api.metrics.Metrics() {
            public void request(String method, String route, int status, long nanos) {
            }

            public void write(java.io.OutputStream out) throws java.io.IOException {
                out.write("# TYPE x counter\nx_total 1.0\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        };
        HttpResponse<String> r = send("GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body(), r.body().contains("x_total 1.0"));
        assertEquals(405, send("POST", "/metrics").statusCode());
        assertEquals(404, send("GET", "/metrics/x").statusCode());
    }
}
