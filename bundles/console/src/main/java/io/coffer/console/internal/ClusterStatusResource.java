package io.coffer.console.internal;

import java.time.Instant;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.CacheControl;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.health.HealthService;
import io.coffer.api.rest.ApiError;

/**
 * {@code GET /cluster/status}: the cluster as this node sees it (see {@link ClusterStatus}), for the console and for
 * scripts. An API route like any other: it needs an access token (the token middleware sees to that), any
 * authenticated role may read it (the plain health port tells the same to anyone who can reach it), and a Follower
 * serves it too.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/cluster/status")
public class ClusterStatusResource {
    private final HealthService health;

    @Activate
    public ClusterStatusResource(@Reference HealthService health) {
        this.health = health;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response status(@Context HttpServletRequest request) {
        if (request.getAttribute(ApiError.IDENTITY) == null) {
            return Response.status(401).build();
        }
        CacheControl none = new CacheControl();
        none.setNoStore(true);
        return Response.ok(Json.write(ClusterStatus.of(health.report(), Instant.now())), MediaType.APPLICATION_JSON)
                .cacheControl(none).build();
    }
}
