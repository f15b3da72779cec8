package io.coffer.rest.internal;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.coffer.api.health.HealthService;

/** {@code /health*} on the TLS API port; the same answers as the plain health port. */
@Path("/health")
@Produces(MediaType.APPLICATION_JSON)
public class HealthResource {
    private final HealthService health;

    HealthResource(HealthService health) {
        this.health = health;
    }

    @GET
    public Response health() {
        return respond("/health");
    }

    @GET
    @Path("leader")
    public Response leader() {
        return respond("/health/leader");
    }

    @GET
    @Path("replica")
    public Response replica() {
        return respond("/health/replica");
    }

    @GET
    @Path("live")
    public Response live() {
        return respond("/health/live");
    }

    private Response respond(String path) {
        HealthRoutes.Answer a = HealthRoutes.answer(path, health).orElseThrow();
        return Response.status(a.status).entity(a.body).type(MediaType.APPLICATION_JSON).build();
    }
}
