package io.coffer.authn.internal;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import io.coffer.api.authn.Authenticator;

/**
 * {@code GET /authenticators} (no auth): installed = the authenticator bundles present on this node. Configured and
 * enabled are the installed ones until authenticator webservices and enablement exist (policy and authn-jwt work).
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/authenticators")
public class AuthenticatorsResource {
    private final List<Authenticator> authenticators = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void add(Authenticator a) {
        authenticators.add(a);
    }

    void remove(Authenticator a) {
        authenticators.remove(a);
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> list() {
        TreeSet<String> names = new TreeSet<>();
        authenticators.forEach(a -> names.add(a.name()));
        return Map.of("installed", names, "configured", names, "enabled", names);
    }
}
