package io.coffer.metrics.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.election.Leadership;
import io.coffer.api.health.HealthService;
import io.coffer.api.metrics.Metrics;

/**
 * The node's metrics, with the Prometheus Java client (1.x, embedded in this bundle): request counts and latency by
 * route template, method and status, and what they say about authentications, secret reads and writes and policy
 * loads; role and leadership changes (sampled each second); gauges from the health report at scrape time; JVM
 * collectors. Its own registry: nothing else in the JVM registers into it.
 */
@Component(service = Metrics.class, immediate = true)
public class PrometheusMetrics implements Metrics {
    private static final Logger LOG = LoggerFactory.getLogger(PrometheusMetrics.class);
    /** Seconds: from a warm secret read (sub-millisecond) to a large policy load. */
    static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Histogram latency;
    private final Counter authentications;
    private final Counter secretReads;
    private final Counter secretWrites;
    private final Counter policyLoads;
    private final Counter roleChanges;
    private final Counter leadershipChanges;
    private ScheduledExecutorService sampler;
    private NodeRole lastRole;
    private Boolean lastHolds;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile HealthService health;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile NodeIdentity node;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Leadership leadership;

    public PrometheusMetrics() {
        requests = Counter.builder().name("coffer_http_requests_total")
                .help("API requests answered, by route template, method and status")
                .labelNames("route", "method", "status").register(registry);
        latency = Histogram.builder().name("coffer_http_request_duration_seconds")
                .help("API request latency, by route template, method and status")
                .labelNames("route", "method", "status").classicOnly().classicUpperBounds(BUCKETS)
                .register(registry);
        authentications = Counter.builder().name("coffer_authentications_total")
                .help("Authentications (login and authenticate routes), by authenticator and outcome")
                .labelNames("authenticator", "outcome").register(registry);
        secretReads = Counter.builder().name("coffer_secret_reads_total")
                .help("Secret read requests (one variable or a batch), by outcome").labelNames("outcome")
                .register(registry);
        secretWrites = Counter.builder().name("coffer_secret_writes_total")
                .help("Secret write requests, by outcome").labelNames("outcome").register(registry);
        policyLoads = Counter.builder().name("coffer_policy_loads_total")
                .help("Policy loads, by method (POST, PUT, PATCH) and outcome").labelNames("method", "outcome")
                .register(registry);
        roleChanges = Counter.builder().name("coffer_role_changes_total")
                .help("Changes of this node's role seen since start, by the role it took").labelNames("role")
                .register(registry);
        leadershipChanges = Counter.builder().name("coffer_leadership_changes_total")
                .help("Times this node acquired or lost the etcd leader key since start").labelNames("change")
                .register(registry);
        registry.register(new HealthGauges(() -> {
            HealthService h = health;
            return h == null ? null : h.report();
        }));
    }

    @Activate
    void activate() {
        try {
            JvmMetrics.builder().register(registry);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("JVM metrics unavailable: {}", e.toString());
        }
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffer-metrics-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(this::sample, 0, 1, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        if (sampler != null) {
            sampler.shutdownNow();
        }
    }

    /** Role and leadership changes, sampled: a change and its reversal within one second are not seen. */
    void sample() {
        try {
            NodeIdentity n = node;
            if (n != null) {
                NodeRole role = n.role();
                if (lastRole != null && role != lastRole) {
                    roleChanges.labelValues(role.id()).inc();
                }
                lastRole = role;
            }
            Leadership l = leadership;
            if (l != null) {
                boolean holds = l.holdsLeadership();
                if (lastHolds != null && holds != lastHolds) {
                    leadershipChanges.labelValues(holds ? "acquired" : "lost").inc();
                }
                lastHolds = holds;
            }
        } catch (RuntimeException e) {
            LOG.debug("role sample failed", e);
        }
    }

    @Override
    public void request(String method, String route, int status, long nanos) {
        String s = Integer.toString(status);
        requests.labelValues(route, method, s).inc();
        latency.labelValues(route, method, s).observe(nanos / 1e9);
        String outcome = outcome(status);
        if (route.startsWith("/authn") && (route.endsWith("/authenticate") || route.endsWith("/login"))) {
            int slash = route.indexOf('/', 1);
            authentications.labelValues(slash < 0 ? route.substring(1) : route.substring(1, slash), outcome).inc();
        } else if (route.startsWith("/secrets")) {
            if ("GET".equals(method) || "HEAD".equals(method)) {
                secretReads.labelValues(outcome).inc();
            } else if ("POST".equals(method)) {
                secretWrites.labelValues(outcome).inc();
            }
        } else if (route.startsWith("/policies")
                && ("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method))) {
            policyLoads.labelValues(method, outcome).inc();
        }
    }

    /** @return success (below 400), denied (401, 403), rejected (other 4xx) or error (5xx, none) */
    static String outcome(int status) {
        if (status > 0 && status < 400) {
            return "success";
        }
        if (status == 401 || status == 403) {
            return "denied";
        }
        return status >= 400 && status < 500 ? "rejected" : "error";
    }

    @Override
    public void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    }
}
