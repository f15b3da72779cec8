package io.coffer.secrets.internal;

import java.sql.SQLException;
import java.util.Arrays;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;

import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.rest.ClientIp;

/**
 * {@code GET|POST /secrets/{account}/{kind}/{id}} (conjur-api §1.2). Reads run on every node; a POST needs the
 * Leader-only {@link SecretWriter} (absent on a Follower, which the role gate already answers with 405).
 */
@Component(service = {Object.class, SecretsResource.class}, property = "coffer.jaxrs.resource=true")
@Path("/secrets/{account}/{kind}/{id: .+}")
public class SecretsResource {
    static final String IDENTITY = ApiError.IDENTITY;

    private final Sealer sealer;
    private final Permissions permissions;
    private final SecretCache cache;
    /** Present on the Leader only (coffer-write); read per request. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile SecretWriter writer;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public SecretsResource(@Reference SecretCache cache, @Reference Sealer sealer, @Reference Permissions permissions) {
        this.sealer = sealer;
        this.permissions = permissions;
        this.cache = cache;
    }

    @GET
    public Response get(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @QueryParam("version") String version, @Context HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(IDENTITY);
        if (who == null) {
            return Response.status(401).build();
        }
        String resourceId = account + ":" + kind + ":" + id;
        Access access = permissions.check(who.roleId(), resourceId, "execute");
        if (access == Access.INVISIBLE) {
            audit(audit, request, who, "fetch", resourceId, null, "CONJ00076E Variable " + resourceId
                    + " is empty or not found.");
            return missing(resourceId);
        }
        if (access != Access.ALLOWED) {
            audit(audit, request, who, "fetch", resourceId, null, "Forbidden");
            return Response.status(403).build();
        }
        Integer wanted = null;
        if (version != null) {
            if (!version.matches("[0-9]{1,9}") || Integer.parseInt(version) < 1) {
                audit(audit, request, who, "fetch", resourceId, null, "version must be a positive integer");
                return error(422, "argument_error", "version must be a positive integer");
            }
            wanted = Integer.parseInt(version);
        }
        try {
            SecretCache.Entry e = cache.get(resourceId, wanted);
            if (e == null) {
                audit(audit, request, who, "fetch", resourceId, wanted, "CONJ00076E Variable " + resourceId
                        + " is empty or not found.");
                return missing(resourceId);
            }
            audit(audit, request, who, "fetch", resourceId, wanted, null);
            byte[] value = sealer.open(e.sealed, SecretWriter.context(resourceId, e.version));
            return Response.ok(value).type(contentType(e)).build();
        } catch (SQLException e) {
            throw new IllegalStateException("secret unavailable: " + e.getSQLState(), e);
        }
    }

    /**
     * For the shell (an operator acting as the account's admin): the value of a version, or the latest.
     *
     * @return the value (the caller wipes it), or {@code null} when there is none
     */
    public byte[] read(String resourceId, Integer version) throws SQLException {
        SecretCache.Entry e = cache.get(resourceId, version);
        return e == null ? null : sealer.open(e.sealed, SecretWriter.context(resourceId, e.version));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response post(@PathParam("account") String account, @PathParam("kind") String kind,
            @PathParam("id") String id, @Context javax.ws.rs.core.UriInfo uri, byte[] body,
            @Context HttpServletRequest request) {
        try {
            Identity who = (Identity) request.getAttribute(IDENTITY);
            if (who == null) {
                return Response.status(401).build();
            }
            SecretWriter w = writer;
            if (w == null) {
                return error(405, "method_not_allowed", "this node does not take writes; send them to the Leader");
            }
            String resourceId = account + ":" + kind + ":" + id;
            Access access = permissions.check(who.roleId(), resourceId, "update");
            if (access == Access.INVISIBLE || !(kind.equals("variable") || kind.equals("public_key"))) {
                audit(audit, request, who, "update", resourceId, null, ApiError.notFoundMessage(account, kind, id));
                return notFound(account, kind, id);
            }
            if (access != Access.ALLOWED) {
                audit(audit, request, who, "update", resourceId, null, ApiError.FORBIDDEN);
                return Response.status(403).build();
            }
            // A bare "?expirations" has no value: look for the key itself.
            String query = uri.getRequestUri().getRawQuery();
            if (query != null && java.util.Arrays.asList(query.split("&")).stream()
                    .anyMatch(q -> q.equals("expirations") || q.startsWith("expirations="))) {
                // ?expirations: clear every version's expiry so the rotator treats the value as expired.
                w.expire(resourceId);
                return Response.status(201).build();
            }
            if (body == null || new String(body, java.nio.charset.StandardCharsets.ISO_8859_1).isBlank()) {
                audit(audit, request, who, "update", resourceId, null, "'value' may not be empty");
                return error(422, "argument_error", "'value' may not be empty");
            }
            w.append(resourceId, body);
            audit(audit, request, who, "update", resourceId, null, null);
            return Response.status(201).build();
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
    }

    /**
     * One {@code fetch} or {@code update} event (conjur-api §6): ids and the version only, never the value.
     *
     * @param error {@code null} on success, else the error the client was told
     */
    static void audit(Audit a, HttpServletRequest request, Identity who, String op, String resourceId,
            Integer version, String error) {
        if (a == null) {
            return;
        }
        String user = who.roleId();
        String what = (version == null ? "" : "version " + version + " of ") + resourceId;
        String done = op.equals("fetch") ? " fetched " : " updated ";
        a.record(AuditEvent.builder(op, op, error == null)
                .request(request.getAttribute(AuditEvent.REQUEST_ID),
                        ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user)
                .subject("resource", resourceId).subject("version", version == null ? null : version.toString())
                .message(error == null ? user + done + what : user + " tried to " + op + " " + what + ": " + error)
                .build());
    }

    private static final java.util.regex.Pattern MIME = java.util.regex.Pattern.compile("[\\w.+-]+/[\\w.+-]+");

    /** The variable's {@code conjur/mime_type} when it is a plain type/subtype, else octet-stream. */
    static String contentType(SecretCache.Entry e) {
        return e.mimeType != null && MIME.matcher(e.mimeType).matches() ? e.mimeType : MediaType.APPLICATION_OCTET_STREAM;
    }

    private static Response missing(String resourceId) {
        return error(404, "not_found", "CONJ00076E Variable " + resourceId + " is empty or not found.");
    }

    private static Response notFound(String account, String kind, String id) {
        return Response.status(404).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.notFound(account, kind, id))
                .build();
    }

    static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
