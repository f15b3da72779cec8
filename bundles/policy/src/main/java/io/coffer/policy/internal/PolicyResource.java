package io.coffer.policy.internal;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.PATCH;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.Credentials;
import io.coffer.api.authn.Identity;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.rest.ClientIp;
import io.coffer.api.store.OutcomeUnknownException;
import io.coffer.api.store.Database;

/**
 * {@code POST|PATCH|PUT /policies/{account}/policy/{id}}: load policy YAML in one transaction, Conjur's way
 * (conjur-api §1.3, §3.4). Errors never become 500s: bad YAML, unknown references and forbidden statements are 422
 * with a position; an oversized body is 413; a concurrent load 409.
 */
@Component(service = {Object.class, PolicyResource.class}, property = "coffer.jaxrs.resource=true")
@Path("/policies/{account}/policy/{id: .+}")
public class PolicyResource {
    public static final int MAX_BYTES = 10 * 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(PolicyResource.class);

    private final Database db;
    private final Permissions permissions;
    private final PolicyLoader loader;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public PolicyResource(@Reference Database db, @Reference Permissions permissions,
            @Reference Credentials credentials, @Reference io.coffer.api.crypto.Sealer sealer,
            @Reference io.coffer.api.store.ChangeLog changes) {
        this.db = db;
        this.permissions = permissions;
        this.loader = new PolicyLoader(credentials, sealer, changes);
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response post(@PathParam("account") String account, @PathParam("id") String id,
            @QueryParam("dryRun") boolean dryRun, byte[] body, @Context HttpServletRequest request) {
        return load("POST", account, id, dryRun, body, request);
    }

    @PATCH
    @Consumes(MediaType.WILDCARD)
    public Response patch(@PathParam("account") String account, @PathParam("id") String id,
            @QueryParam("dryRun") boolean dryRun, byte[] body, @Context HttpServletRequest request) {
        return load("PATCH", account, id, dryRun, body, request);
    }

    @PUT
    @Consumes(MediaType.WILDCARD)
    public Response put(@PathParam("account") String account, @PathParam("id") String id,
            @QueryParam("dryRun") boolean dryRun, byte[] body, @Context HttpServletRequest request) {
        return load("PUT", account, id, dryRun, body, request);
    }

    /** PUT replaces everything under the policy: the caller needs {@code update} on each resource below it too. */
    private boolean mayReplace(String roleId, String account, String id) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT resource_id FROM resources WHERE account = ? AND starts_with(identifier, ?)")) {
            ps.setString(1, account);
            ps.setString(2, id + "/");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (permissions.check(roleId, rs.getString(1), "update") != Access.ALLOWED) {
                        return false;
                    }
                }
            }
            return true;
        } catch (SQLException e) {
            throw new IllegalStateException("policy unavailable: " + e.getSQLState(), e);
        }
    }

    private Response load(String mode, String account, String id, boolean dryRun, byte[] body,
            HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null || !who.account().equals(account)) {
            return Response.status(401).build();
        }
        Response r;
        Object requestId = request.getAttribute(AuditEvent.REQUEST_ID);
        try {
            r = load(mode, account, id, dryRun, body, who.roleId(),
                    ClientIp.of(request::getAttribute, request.getRemoteAddr()),
                    requestId instanceof String ? (String) requestId : null);
        } catch (RuntimeException e) {
            auditLoad(request, who.roleId(), account + ":policy:" + id, mode, dryRun, null);
            throw e;
        }
        auditLoad(request, who.roleId(), account + ":policy:" + id, mode, dryRun, r);
        return r;
    }

    /**
     * A load that failed, or a dry run: one {@code policy} event with the error the client was told ({@code null}
     * response: an unexpected error). A load that succeeded was audited row by row before it committed.
     */
    private void auditLoad(HttpServletRequest request, String user, String policyId, String mode, boolean dryRun,
            Response r) {
        Audit a = audit;
        boolean ok = r != null && r.getStatus() < 300;
        if (a == null || ok && !dryRun) {
            return;
        }
        Object entity = r == null ? null : r.getEntity();
        Object version = ok && entity instanceof Map ? ((Map<?, ?>) entity).get("version") : null;
        Object error = !ok && entity instanceof Map && ((Map<?, ?>) entity).get("error") instanceof Map
                ? ((Map<?, ?>) ((Map<?, ?>) entity).get("error")).get("message") : null;
        String op = dryRun ? "validate" : mode.equals("POST") ? "create" : "update";
        a.record(AuditEvent.builder("policy", op, ok)
                .request(request.getAttribute(AuditEvent.REQUEST_ID),
                        ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user)
                .subject().policy(policyId, version == null ? null : version.toString())
                .message(ok ? user + (dryRun ? " validated policy " : " loaded policy ") + policyId
                        + (version == null ? "" : " version " + version)
                        : "Failed to load policy: " + (error != null ? error : r == null ? "internal error"
                        : "HTTP " + r.getStatus())).build());
    }

    /**
     * Loads policy as {@code roleId} (the API's caller, or the account's admin for the shell). Every row it changes
     * is one {@code policy} audit event, recorded before the load commits: a full audit queue answers 503 and the
     * load is rolled back, never applied unaudited.
     *
     * @param mode {@code POST}, {@code PATCH} or {@code PUT}
     * @return the API's response: 201 with created roles and version, or the error
     */
    public Response load(String mode, String account, String id, boolean dryRun, byte[] body, String roleId,
            String clientIp) {
        return load(mode, account, id, dryRun, body, roleId, clientIp, null);
    }

    private Response load(String mode, String account, String id, boolean dryRun, byte[] body, String roleId,
            String clientIp, String requestId) {
        String policyId = account + ":policy:" + id;
        Access access = permissions.check(roleId, policyId, mode.equals("POST") ? "create" : "update");
        if (access == Access.INVISIBLE) {
            return error(404, "not_found", "Policy '" + id + "' not found in account '" + account + "'", null);
        }
        if (access != Access.ALLOWED) {
            return Response.status(403).build();
        }
        if (mode.equals("PUT") && !mayReplace(roleId, account, id)) {
            return Response.status(403).build();
        }
        if (body != null && body.length > MAX_BYTES) {
            return error(413, "payload_too_large", "policy larger than " + MAX_BYTES + " bytes", null);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(body == null ? new byte[0] : body)).toString();
        } catch (CharacterCodingException e) {
            return validation("policy_text", "is not valid UTF-8");
        }
        if (text.isBlank()) {
            return validation("policy_text", "is not present");
        }
        Resolved resolved;
        try (Connection c = db.dataSource().getConnection()) {
            String rootOwner = ownerOf(c, account + ":policy:root");
            resolved = Resolver.resolve(new PolicyParser().parse(text, MAX_BYTES), account, id, rootOwner);
            if (mode.equals("POST") && resolved.hasDeletions()) {
                return validation("policy_text", "may not contain deletion statements");
            }
            c.setAutoCommit(false);
            try {
                PolicyChanges.begin(c);
                PolicyLoader.Result result = loader.load(c, mode.equals("PUT") ? "PATCH" : mode, account, policyId,
                        resolved, roleId, clientIp, text);
                if (mode.equals("PUT")) {
                    PolicyReplace.removeMissing(c, policyId, resolved);
                }
                if (dryRun) {
                    c.rollback();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("status", "Valid YAML");
                    m.put("created", Map.of("items", List.copyOf(resolved.records.keySet())));
                    m.put("updated", Map.of("before", Map.of("items", List.of()), "after", Map.of("items", List.of())));
                    m.put("deleted", Map.of("items", List.of()));
                    return Response.ok(m, MediaType.APPLICATION_JSON_TYPE).build();
                }
                Audit a = audit;
                List<PolicyChanges.Change> changed = PolicyChanges.take(c);
                if (a != null) {
                    for (AuditEvent e : PolicyChanges.events(changed, roleId, policyId, result.version, requestId,
                            clientIp)) {
                        a.record(e); // AuditOverloadedException: rolled back below, answered 503
                    }
                }
                c.commit();
                Map<String, Object> created = new LinkedHashMap<>();
                result.createdRoles.forEach((role, key) -> {
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("id", role);
                    entry.put("api_key", key);
                    created.put(role, entry);
                });
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("created_roles", created);
                m.put("version", result.version);
                return Response.status(201).type(MediaType.APPLICATION_JSON_TYPE).entity(m).build();
            } catch (PolicyLoader.Conflict e) {
                c.rollback();
                return Response.fromResponse(error(409, "policy_conflict",
                        "Concurrent policy load in progress, please retry", null)).header("Retry-After", "2").build();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (PolicyException e) {
            if (dryRun) {
                // The validation shape of ?dryRun (conjur-api §1.3).
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("line", e.line());
                err.put("column", e.column());
                err.put("message", e.getMessage());
                err.put("context", Map.of("policy_id", policyId, "offending_lines", List.of(e.line())));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("status", "Invalid YAML");
                m.put("errors", List.of(err));
                return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE).entity(m).build();
            }
            Map<String, Object> inner = new LinkedHashMap<>();
            inner.put("code", "policy_invalid");
            inner.put("filename", id);
            inner.put("line", e.line());
            inner.put("column", e.column());
            return error(422, "policy_invalid", e.getMessage(), inner);
        } catch (OutcomeUnknownException e) {
            throw new IllegalStateException("policy load into " + policyId + ": outcome unknown", e);
        } catch (SQLException e) {
            LOG.error("policy load into {} failed: {}", policyId, e.getMessage());
            return error(422, "policy_invalid", "policy could not be loaded: " + e.getSQLState(), null);
        }
    }

    private static String ownerOf(Connection c, String resourceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT owner_id FROM resources WHERE resource_id = ?")) {
            ps.setString(1, resourceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : resourceId.substring(0, resourceId.indexOf(':')) + ":user:admin";
            }
        }
    }

    static Response validation(String target, String message) {
        return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.validation(target, message))
                .build();
    }

    static Response error(int status, String code, String message, Map<String, Object> innererror) {
        Map<String, Object> body = ApiError.of(code, message);
        if (innererror != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> inner = new LinkedHashMap<>((Map<String, Object>) body.get("error"));
            inner.put("innererror", innererror);
            body = Map.of("error", inner);
        }
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }
}
