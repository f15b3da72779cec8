package io.coffer.rest.internal;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.ProxyProtocolClientConnectionFactory;
import org.eclipse.jetty.client.api.ContentResponse;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.util.StringContentProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeRole;
import io.coffer.api.net.NodeTls;

/**
 * Warms a Standby's API for its promotion. A Standby serves no API (the role gate), so once promoted its first write
 * would be the first request its TLS connector, CXF and JAX-RS ever handled: ~300 classes loaded and run cold. In
 * {@code ./coffer chaos} that first write took 0.8-3 s of a 5 s failover, class loading all the way (the new
 * Leader's class-load log). After each rebuild of the application on a Standby, the node sends itself a few requests
 * through the listener the load balancer uses (TLS behind a PROXY v2 header): health, which is served, and a write
 * and a read, which the role gate refuses. They carry no credentials and change nothing.
 */
final class Warmup {
    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
    /** Rebuilds come in bursts (a feature install registers its resources one by one): one warm-up after the last. */
    static final long DELAY_MILLIS = 3000;
    static final int PASSES = 2;

    /** Method, path, body (null: none). */
    static final List<String[]> REQUESTS = List.of(
            new String[] {"GET", "/health", null},
            new String[] {"GET", "/health/leader", null},
            new String[] {"POST", "/secrets/coffer-warmup/variable/warmup", "warmup"},
            new String[] {"GET", "/secrets/coffer-warmup/variable/warmup", null},
            new String[] {"GET", "/resources/coffer-warmup", null});

    private final Supplier<NodeRole> role;
    private final Supplier<NodeTls> tls;
    private final IntSupplier port;
    private final String host;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-api-warmup");
        t.setDaemon(true);
        return t;
    });
    private ScheduledFuture<?> pending;

    /**
     * @param port the PROXY listener's port (0: none, nothing to warm)
     * @param host an address of this node its certificate names and the listener accepts
     */
    Warmup(Supplier<NodeRole> role, Supplier<NodeTls> tls, IntSupplier port, String host) {
        this.role = role;
        this.tls = tls;
        this.port = port;
        this.host = host;
    }

    /** The application was (re)built: warm it after the burst, if this node is a replica that may be promoted. */
    synchronized void soon() {
        if (timer.isShutdown()) {
            return;
        }
        if (pending != null) {
            pending.cancel(false);
        }
        pending = timer.schedule(this::run, DELAY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** @return the number of requests answered (any status), or -1 when nothing was warmed */
    int run() {
        NodeRole r = role.get();
        NodeTls t = tls.get();
        int p = port.getAsInt();
        if (r != NodeRole.STANDBY && r != NodeRole.DR_STANDBY || t == null || p == 0) {
            return -1;
        }
        long t0 = System.nanoTime();
        long first = 0;
        int answered = 0;
        HttpClient c = null;
        try {
            c = NodeClient.start(t);
            for (int pass = 0; pass < PASSES; pass++) {
                for (String[] q : REQUESTS) {
                    Request out = c.newRequest(host, p).scheme("https").method(q[0]).path(q[1])
                            .timeout(10, TimeUnit.SECONDS).tag(ProxyProtocolClientConnectionFactory.V2.Tag.LOCAL)
                            .header("X-Request-Id", "warmup");
                    if (q[2] != null) {
                        out.content(new StringContentProvider("text/plain", q[2], java.nio.charset.StandardCharsets.UTF_8));
                    }
                    ContentResponse in = out.send();
                    if (in.getStatus() > 0) {
                        answered++;
                    }
                    if (first == 0) {
                        first = System.nanoTime() - t0;
                    }
                }
            }
            LOG.info("API warmed for a promotion: {} requests through the PROXY listener in {} ms (the first {} ms)",
                    answered, (System.nanoTime() - t0) / 1_000_000, first / 1_000_000);
            return answered;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (Exception e) {
            // Only a slower first request after a promotion: nothing to alarm anyone with.
            LOG.info("API warm-up skipped: {}", e.toString());
            return -1;
        } finally {
            if (c != null) {
                try {
                    c.stop();
                } catch (Exception e) {
                    LOG.debug("API warm-up: stopping its client: {}", e.getMessage());
                }
            }
        }
    }

    void close() {
        timer.shutdownNow();
    }
}
