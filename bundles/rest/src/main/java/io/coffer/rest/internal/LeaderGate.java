package io.coffer.rest.internal;

import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.election.Leadership;

/**
 * Self-fencing at the API: in an auto-failover cluster a Leader takes writes only while it holds the etcd leader
 * key with a lease that can't have expired ({@link Leadership#holdsLeadership()}); otherwise every write route
 * answers 503 {@code not_leader} before it is routed. Without election (standalone, manual failover) the role alone
 * decides. This is the second fence: the first is synchronous replication, which holds even for a paused process
 * that passed this check before its lease ran out.
 */
@PreMatching
public class LeaderGate implements ContainerRequestFilter {
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");
    private static final Pattern AUTHENTICATE = Pattern.compile("^/authn[^/]*/.+/authenticate$");

    private final NodeIdentity node;
    private final Supplier<Leadership> leadership;

    LeaderGate(NodeIdentity node, Supplier<Leadership> leadership) {
        this.node = node;
        this.leadership = leadership;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        if (node.role() != NodeRole.LEADER || READS.contains(request.getMethod())) {
            return;
        }
        Leadership l = leadership.get();
        if (l == null || l.holdsLeadership()) {
            return;
        }
        String path = request.getUriInfo().getRequestUri().getRawPath();
        if (AUTHENTICATE.matcher(path).matches()) {
            return;
        }
        String leader = l.leader().filter(n -> !n.equals(node.name())).map(n -> " (the leader key names " + n + ")")
                .orElse("");
        request.abortWith(ApiErrors.error(503, "not_leader", "node " + node.name() + " does not hold the cluster's "
                + "leadership and takes no writes" + leader + "; send writes to the current Leader"));
    }
}
