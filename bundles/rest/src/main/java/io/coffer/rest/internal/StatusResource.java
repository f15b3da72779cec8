package io.coffer.rest.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.health.HealthService;

/** {@code GET /} (Conjur's status page, HTML or JSON) and {@code GET /info} (Enterprise's shape, Coffer's roles). */
@Path("/")
public class StatusResource {
    /** The Conjur API version Coffer answers as. */
    static final String CONJUR_VERSION = "1.24.0";
    private final NodeIdentity node;
    private final HealthService health;
    private final Supplier<List<String>> authenticators;

    StatusResource(NodeIdentity node, HealthService health, Supplier<List<String>> authenticators) {
        this.authenticators = authenticators;
        this.node = node;
        this.health = health;
    }

    @GET
    @Produces(MediaType.TEXT_HTML)
    public String page() {
        return "<!DOCTYPE html><html><head><title>Coffer</title></head><body>"
                + "<h1>Coffer (Conjur API " + CONJUR_VERSION + ") is running!</h1></body></html>";
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> version() {
        return Map.of("version", CONJUR_VERSION);
    }

    @GET
    @Path("info")
    @Produces(MediaType.APPLICATION_JSON)
    public Response info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("release", CONJUR_VERSION);
        m.put("version", CONJUR_VERSION);
        m.put("role", node.role().id());
        // Conjur Enterprise calls the Leader "master"; tooling that reads /info may expect that word.
        m.put("conjur_role", node.role() == NodeRole.LEADER ? "master" : node.role().id());
        m.put("node", node.name());
        m.put("ok", health.report().ok());
        // Installed authenticators; GET /authenticators adds what policy configures and what is enabled.
        List<String> installed = authenticators.get();
        m.put("authenticators", Map.of("installed", installed));
        return Response.ok(m).build();
    }
}
