package io.coffer.rest.internal;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;

/**
 * Standbys (sync, async and DR) serve no API: their database is a replica that may be promoted, and answering reads
 * there would make clients depend on a node that is about to change role. Only the health routes pass.
 */
@PreMatching
public class RoleGate implements ContainerRequestFilter {
    private final NodeIdentity node;

    RoleGate(NodeIdentity node) {
        this.node = node;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        NodeRole role = node.role();
        if (role != NodeRole.STANDBY && role != NodeRole.DR_STANDBY) {
            return;
        }
        String path = "/" + request.getUriInfo().getPath(false);
        if (!path.equals("/health") && !path.startsWith("/health/")) {
            request.abortWith(ApiErrors.error(503, "service_unavailable",
                    "this node is a " + role.id() + " and serves no API; send requests to the Leader or a Follower"));
        }
    }
}
