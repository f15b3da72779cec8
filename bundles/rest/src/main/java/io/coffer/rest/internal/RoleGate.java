package io.coffer.rest.internal;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;

/**
 * Standbys (sync, async and DR) serve no API: their database is a replica that may be promoted, and answering reads
 * there would make clients depend on a node that is about to change role. Only the health routes pass.
 * Followers are read-only: every write method answers 405 before routing (authenticate is a read).
 */
@PreMatching
public class RoleGate implements ContainerRequestFilter {
    private final NodeIdentity node;

    RoleGate(NodeIdentity node) {
        this.node = node;
    }

    private static final java.util.Set<String> READS = java.util.Set.of("GET", "HEAD", "OPTIONS");
    private static final java.util.regex.Pattern AUTHENTICATE =
            java.util.regex.Pattern.compile("^/authn[^/]*/.+/authenticate$");

    @Override
    public void filter(ContainerRequestContext request) {
        NodeRole role = node.role();
        String path = request.getUriInfo().getRequestUri().getRawPath();
        if (role == NodeRole.FOLLOWER && !READS.contains(request.getMethod())
                && !AUTHENTICATE.matcher(path).matches()) {
            request.abortWith(javax.ws.rs.core.Response.fromResponse(ApiErrors.error(405, "method_not_allowed",
                    "this node is a follower (read-only); send writes to the Leader"))
                    .header("Allow", "GET, HEAD, OPTIONS").build());
            return;
        }
        if (role != NodeRole.STANDBY && role != NodeRole.DR_STANDBY) {
            return;
        }
        if (!path.equals("/health") && !path.startsWith("/health/")) {
            request.abortWith(ApiErrors.error(503, "service_unavailable",
                    "this node is a " + role.id() + " and serves no API; send requests to the Leader or a Follower"));
        }
    }
}
