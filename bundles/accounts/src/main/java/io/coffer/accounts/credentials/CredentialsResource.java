package io.coffer.accounts.credentials;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.HeaderParam;
import javax.ws.rs.PUT;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.BasicAuth;
import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;
import io.coffer.api.rest.ClientIp;

/**
 * Write side of credentials: {@code PUT /authn/{account}/password} and {@code PUT /authn/{account}/api_key}, with
 * Conjur's rules on who may do what with which kind of authentication.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/authn/{account}/{credential: password|api_key}")
public class CredentialsResource {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String IDENTITY = ApiError.IDENTITY;

    private final Database db;
    private final Sealer sealer;
    private final BasicAuth basic;
    private final Permissions permissions;
    private final ChangeLog changes;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public CredentialsResource(@Reference Database db, @Reference Sealer sealer, @Reference BasicAuth basic,
            @Reference Permissions permissions, @Reference ChangeLog changes) {
        this.changes = changes;
        this.db = db;
        this.sealer = sealer;
        this.basic = basic;
        this.permissions = permissions;
    }

    @PUT
    @Consumes(MediaType.WILDCARD)
    public Response put(@PathParam("account") String account, @PathParam("credential") String credential,
            @QueryParam("role") String role, @HeaderParam("Authorization") String authorization, byte[] body,
            @Context HttpServletRequest request) {
        try {
            return "password".equals(credential)
                    ? changePassword(account, role, authorization, body, request)
                    : rotateApiKey(account, role, authorization, request);
        } catch (AuthnException e) {
            if (e.status() == 429) {
                return Response.status(429).header("Retry-After", Math.max(1, e.retryAfterSeconds())).build();
            }
            return e.getMessage().isEmpty() ? Response.status(e.status()).build()
                    : error(e.status(), "unauthorized", e.getMessage());
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
    }

    /** {@code GET /authn/{account}/api_key[?role=]}: when the key last changed, with the rotation's auth rules. */
    @GET
    public Response rotatedAt(@PathParam("account") String account, @PathParam("credential") String credential,
            @QueryParam("role") String role, @HeaderParam("Authorization") String authorization,
            @Context HttpServletRequest request) {
        if (!"api_key".equals(credential)) {
            return Response.status(405).header("Allow", "PUT").build();
        }
        try {
            Identity token = (Identity) request.getAttribute(IDENTITY);
            String target;
            if (token == null) {
                target = basic.verify(account, authorization, clientIp(request));
                if (role != null && !qualify(account, role).equals(target)) {
                    return Response.status(401).build();
                }
            } else {
                if (!token.account().equals(account)) {
                    return Response.status(401).build();
                }
                target = role == null ? token.roleId() : qualify(account, role);
                if (!target.equals(token.roleId())) {
                    Access access = permissions.check(token.roleId(), target, "update");
                    if (access == Access.INVISIBLE) {
                        return error(404, "not_found", "Role '" + target + "' not found");
                    }
                    if (access != Access.ALLOWED) {
                        return Response.status(403).build();
                    }
                }
            }
            try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM credentials "
                            + "WHERE role_id = ?")) {
                ps.setString(1, target);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return error(405, "method_not_allowed", "'" + target + "' has no API key");
                    }
                    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                    m.put("role", target);
                    m.put("timestamp", rs.getString(1));
                    return Response.ok(m, MediaType.APPLICATION_JSON_TYPE).build();
                }
            }
        } catch (AuthnException e) {
            return e.status() == 429 ? Response.status(429).header("Retry-After", Math.max(1, e.retryAfterSeconds()))
                    .build() : Response.status(e.status()).build();
        } catch (SQLException e) {
            throw new IllegalStateException("credentials unavailable: " + e.getSQLState(), e);
        }
    }

    private Response changePassword(String account, String role, String authorization, byte[] body,
            HttpServletRequest request) {
        String self = basic.verify(account, authorization, clientIp(request));
        if (role != null && !qualify(account, role).equals(self)) {
            return Response.status(401).build();
        }
        if (!self.startsWith(account + ":user:")) {
            auditPassword(request, self, ApiError.FORBIDDEN);
            return Response.status(403).build();
        }
        String password = new String(body == null ? new byte[0] : body, StandardCharsets.UTF_8);
        if (!PasswordRules.strong(password)) {
            auditPassword(request, self, "password " + PasswordRules.MESSAGE);
            return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.validation("password", PasswordRules.MESSAGE)).build();
        }
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        String hash = OpenBSDBCrypt.generate(password.toCharArray(), salt, 12);
        write(self, "password_hash", sealer.seal(hash.getBytes(StandardCharsets.US_ASCII), self + "#password"),
                "password-change", () -> auditPassword(request, self, null));
        return Response.noContent().build();
    }

    private Response rotateApiKey(String account, String role, String authorization, HttpServletRequest request) {
        Identity token = (Identity) request.getAttribute(IDENTITY);
        String target;
        if (token == null) {
            String self = basic.verify(account, authorization, clientIp(request));
            if (role != null && !qualify(account, role).equals(self)) {
                return Response.status(401).build();
            }
            target = self;
        } else {
            if (!token.account().equals(account)) {
                return Response.status(401).build();
            }
            if (role == null || qualify(account, role).equals(token.roleId())) {
                return error(401, "unauthorized", "Credential strength is insufficient");
            }
            target = qualify(account, role);
            Access access = permissions.check(token.roleId(), target, "update");
            if (access == Access.INVISIBLE) {
                auditRotation(request, token.roleId(), target, "Role '" + target + "' not found");
                return error(404, "not_found", "Role '" + target + "' not found");
            }
            if (access != Access.ALLOWED) {
                auditRotation(request, token.roleId(), target, ApiError.FORBIDDEN);
                return Response.status(403).build();
            }
            String kind = target.split(":", 3)[1];
            if (!kind.equals("user") && !kind.equals("host")) {
                auditRotation(request, token.roleId(), target, "API key of " + kind + " roles can't be rotated");
                return error(405, "method_not_allowed", "API key of " + kind + " roles can't be rotated");
            }
        }
        String key = AccountManager.newApiKey();
        String me = token == null ? target : token.roleId();
        write(target, "api_key", sealer.seal(key.getBytes(StandardCharsets.US_ASCII), target), "api-key-rotate",
                () -> auditRotation(request, me, target, null));
        return Response.ok(key, MediaType.TEXT_PLAIN_TYPE).build();
    }

    /**
     * An {@code api-key} event (conjur-api §6) by an authenticated caller; refusals too (Conjur audits only a
     * rotation that failed once under way; a refused attempt on another role's key is worth the trail).
     *
     * @param error {@code null} on success
     */
    private void auditRotation(HttpServletRequest request, String me, String target, String error) {
        Audit a = audit;
        if (a == null) {
            return;
        }
        String whose = me.equals(target) ? "their API key" : "the api key for " + target;
        a.record(AuditEvent.builder("api-key", "rotate", error == null)
                .request(request.getAttribute(AuditEvent.REQUEST_ID), clientIp(request)).user(me)
                .subject("role", target)
                .message(error == null ? me + " successfully rotated " + whose
                        : me + " failed to rotate " + whose + ": " + error).build());
    }

    /** A {@code password} event (conjur-api §6): the role changed its own password, or failed to. */
    private void auditPassword(HttpServletRequest request, String role, String error) {
        Audit a = audit;
        if (a == null) {
            return;
        }
        a.record(AuditEvent.builder("password", "change", error == null)
                .request(request.getAttribute(AuditEvent.REQUEST_ID), clientIp(request)).user(role)
                .subject("role", role)
                .message(error == null ? role + " successfully changed their password"
                        : role + " failed to change their password: " + error).build());
    }

    /** {@code kind:id} or {@code account:kind:id} → the full role id in this account. */
    static String qualify(String account, String role) {
        String[] parts = role.split(":", 3);
        if (parts.length == 3) {
            return role;
        }
        if (parts.length == 2) {
            return account + ":" + role;
        }
        return account + ":user:" + role;
    }

    /** Writes the credential; {@code audited} runs inside the transaction, before it commits. */
    private void write(String roleId, String column, byte[] sealed, String kind, Runnable audited) {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("UPDATE credentials SET " + column
                    + " = ?, updated_at = now() WHERE role_id = ?")) {
                ps.setBytes(1, sealed);
                ps.setString(2, roleId);
                if (ps.executeUpdate() != 1) {
                    c.rollback();
                    throw new AuthnException(401, "");
                }
                audited.run();
                changes.append(c, roleId.substring(0, roleId.indexOf(':')), kind, roleId);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("credentials could not be written: " + e.getMessage(), e);
        }
    }

    private static String clientIp(HttpServletRequest request) {
        return ClientIp.of(request::getAttribute, request.getRemoteAddr());
    }

    static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
