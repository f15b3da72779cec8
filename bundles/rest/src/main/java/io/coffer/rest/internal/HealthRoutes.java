package io.coffer.rest.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthReport;
import io.coffer.api.health.HealthService;

/**
 * The health endpoints' answers, shared by the API port and the plain-HTTP health port so both say exactly the
 * same thing. 200 when the condition holds, 502 when not (as Conjur does), except {@code /health/live}.
 */
final class HealthRoutes {
    /** A status code and a JSON-ready body. */
    static final class Answer {
        final int status;
        final Map<String, Object> body;

        Answer(int status, Map<String, Object> body) {
            this.status = status;
            this.body = body;
        }
    }

    static final int UNHEALTHY = 502;

    private HealthRoutes() {
    }

    /**
     * @param path the request path, e.g. {@code /health/leader}
     * @return the answer, or empty when {@code path} is not a health route
     */
    static Optional<Answer> answer(String path, HealthService health) {
        switch (path) {
            case "/health":
            case "/health/": {
                HealthReport r = health.report();
                return Optional.of(new Answer(r.ok() ? 200 : UNHEALTHY, r.toMap()));
            }
            case "/health/leader": {
                HealthReport r = health.report();
                // Standalone and manual-failover clusters: the healthy node whose role is leader. In an
                // auto-failover cluster election's check says whether this node holds the etcd leader key, or still
                // relays to the Leader it handed over to (switchover: the balancer must never find no Leader).
                ComponentHealth election = r.components().get("election");
                boolean handingOver = election != null
                        && Boolean.TRUE.equals(election.details().get("routes_here"))
                        && !Boolean.TRUE.equals(election.details().get("holds_leadership"));
                // Handing over, its database is stopped on purpose: it still answers by relaying (architecture 76).
                boolean ok = r.role() == NodeRole.LEADER && (handingOver || r.ok()
                        && (election == null || Boolean.TRUE.equals(election.details().get("holds_leadership"))));
                return Optional.of(new Answer(ok ? 200 : UNHEALTHY, r.toMap()));
            }
            case "/health/replica": {
                HealthReport r = health.report();
                boolean ok = r.ok() && r.role() != NodeRole.LEADER;
                return Optional.of(new Answer(ok ? 200 : UNHEALTHY, r.toMap()));
            }
            case "/health/live": {
                // Liveness only: a locked, lagging or database-less node must not be restarted in a loop.
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ok", true);
                return Optional.of(new Answer(200, m));
            }
            default:
                return Optional.empty();
        }
    }
}
