package io.coffer.audit.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.UriInfo;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.audit.AuditSearch;
import io.coffer.api.authn.Identity;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;

/**
 * Conjur's audit read API: {@code GET /audit}, {@code /audit/resources/{id}}, {@code /audit/roles/{id}},
 * {@code /audit/entities/{id}} (full ids), newest first, with Conjur's filters plus since/until/action/outcome and
 * bounded paging; an empty answer is 404 with {@code []}, as Conjur's audit engine answers it.
 *
 * <p>Conjur's engine lets any authenticated role read everything. Coffer scopes every answer to the caller's
 * account and asks for: the account's admin (a role allowed {@code update} on {@code <account>:policy:root}, who
 * could grant itself anything anyway) for the whole trail; for one resource, {@code read} on it; for one role or
 * entity, being that role or {@code read} on its resource. Ids the caller can't see are 404, seen without
 * {@code read} 403.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/audit")
@Produces(MediaType.APPLICATION_JSON)
public class AuditResource {
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AuditSearch search;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Permissions permissions;

    @GET
    public Response all(@Context HttpServletRequest request, @Context UriInfo uri) {
        return answer(request, uri, null, null);
    }

    @GET
    @Path("resources/{id: .+}")
    public Response resource(@PathParam("id") String id, @Context HttpServletRequest request, @Context UriInfo uri) {
        return answer(request, uri, "resource", id);
    }

    @GET
    @Path("roles/{id: .+}")
    public Response role(@PathParam("id") String id, @Context HttpServletRequest request, @Context UriInfo uri) {
        return answer(request, uri, "role", id);
    }

    @GET
    @Path("entities/{id: .+}")
    public Response entity(@PathParam("id") String id, @Context HttpServletRequest request, @Context UriInfo uri) {
        return answer(request, uri, "entity", id);
    }

    private Response answer(HttpServletRequest request, UriInfo uri, String filter, String id) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null) {
            return Response.status(401).build();
        }
        AuditSearch s = search;
        Permissions p = permissions;
        if (s == null || p == null) {
            return error(503, "service_unavailable", "the audit trail is not available on this node yet");
        }
        Map<String, List<String>> filters = new LinkedHashMap<>(uri.getQueryParameters());
        for (String f : new String[] {"resource", "role", "entity"}) {
            if (filters.containsKey(f)) {
                return error(422, "argument_error", "'" + f + "' is given in the path: /audit/" + f
                        + (f.equals("entity") ? "ities" : "s") + "/{id}");
            }
        }
        Response denied = authorize(p, who, filter, id);
        if (denied != null) {
            return denied;
        }
        if (filter != null) {
            filters.put(filter, List.of(id));
        }
        List<Map<String, Object>> events;
        try {
            events = s.search(who.account(), filters);
        } catch (IllegalArgumentException e) {
            return error(422, "argument_error", e.getMessage());
        }
        return Response.status(events.isEmpty() ? 404 : 200).type(MediaType.APPLICATION_JSON_TYPE).entity(events)
                .build();
    }

    /** @return {@code null} when the caller may read these events, else the answer */
    private static Response authorize(Permissions p, Identity who, String filter, String id) {
        String account = who.account();
        if (p.check(who.roleId(), account + ":policy:root", "update") == Access.ALLOWED) {
            return id == null || id.startsWith(account + ":") ? null
                    : notFound(id);
        }
        if (filter == null) {
            return error(403, "forbidden", "the whole audit trail is for the account's admin; ask for "
                    + "/audit/resources/{id}, /audit/roles/{id} or /audit/entities/{id} you may read");
        }
        if (!id.matches("[^:]+:[^:]+:.+")) {
            return error(422, "argument_error", "the id must be a full id such as " + account + ":variable:db/password");
        }
        if (!id.startsWith(account + ":")) {
            return notFound(id);
        }
        if (!filter.equals("resource") && id.equals(who.roleId())) {
            return null; // a role reads its own trail
        }
        Access a = p.check(who.roleId(), id, "read");
        if (a == Access.ALLOWED) {
            return null;
        }
        return a == Access.INVISIBLE ? notFound(id) : error(403, "forbidden", "reading the audit events of " + id
                + " needs read on it");
    }

    private static Response notFound(String id) {
        String[] parts = id.split(":", 3);
        Map<String, Object> body = parts.length == 3 ? ApiError.notFound(parts[0], parts[1], parts[2])
                : ApiError.of("not_found", "not found");
        return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }

    private static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
