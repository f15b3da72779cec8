package io.coffer.authn.jwt.internal;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.HeaderParam;
import javax.ws.rs.PATCH;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Identity;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ApiError;
import io.coffer.api.rest.ClientIp;

/**
 * The authn-jwt routes, as Conjur answers them: {@code POST .../[<login>/]authenticate} (form {@code jwt=...}, no
 * token), {@code PATCH /authn-jwt/<service_id>/<account>} (enable or disable; token + {@code update}) and
 * {@code GET .../status} (token + {@code read} on the {@code status} webservice).
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/authn-jwt/{service_id}/{account}")
public class JwtResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Large enough for tokens with many groups; larger is not a JWT anyone issues. */
    private static final int MAX_JWT_CHARS = 64 * 1024;
    private static final Pattern COMPACT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

    private final JwtAuthenticator authn;
    private final JwtSettings settings;
    private final Permissions permissions;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public JwtResource(@Reference JwtAuthenticator authn, @Reference JwtSettings settings,
            @Reference Permissions permissions) {
        this.authn = authn;
        this.settings = settings;
        this.permissions = permissions;
    }

    @POST
    @Path("authenticate")
    @Consumes(MediaType.WILDCARD)
    public Response authenticate(@PathParam("service_id") String serviceId, @PathParam("account") String account,
            @HeaderParam("Accept-Encoding") String acceptEncoding, byte[] body, @Context HttpServletRequest request) {
        return exchange(serviceId, account, null, acceptEncoding, body, request);
    }

    @POST
    @Path("{login}/authenticate")
    @Consumes(MediaType.WILDCARD)
    public Response authenticateAs(@PathParam("service_id") String serviceId, @PathParam("account") String account,
            @PathParam("login") String login, @HeaderParam("Accept-Encoding") String acceptEncoding, byte[] body,
            @Context HttpServletRequest request) {
        return exchange(serviceId, account, login, acceptEncoding, body, request);
    }

    private Response exchange(String serviceId, String account, String login, String acceptEncoding, byte[] body,
            HttpServletRequest request) {
        String jwt = formField(body, "jwt");
        if (body != null) {
            Arrays.fill(body, (byte) 0);
        }
        JwtAuthenticator.Attempt attempt = new JwtAuthenticator.Attempt();
        if (jwt == null || jwt.isEmpty()) {
            String error = "CONJ00077E The request body does not contain JWT token";
            auditAuthn(request, serviceId, account, "authenticate", null, error);
            return json(400, ApiError.of("bad_request", error));
        }
        if (jwt.length() > MAX_JWT_CHARS || !COMPACT.matcher(jwt).matches()) {
            auditAuthn(request, serviceId, account, "authenticate", null, "CONJ00035E Failed to decode token");
            return Response.status(401).build();
        }
        try {
            byte[] token = authn.authenticate(serviceId, account, login, jwt,
                    ClientIp.of(request::getAttribute, request.getRemoteAddr()), attempt);
            auditAuthn(request, serviceId, account, "authenticate", attempt.roleId, null);
            boolean base64 = acceptEncoding != null && Arrays.stream(acceptEncoding.split(","))
                    .map(String::trim).anyMatch("base64"::equalsIgnoreCase);
            return base64
                    ? Response.ok(Base64.getEncoder().encodeToString(token), MediaType.TEXT_PLAIN_TYPE)
                            .header("Content-Encoding", "base64").build()
                    : Response.ok(token, MediaType.APPLICATION_JSON_TYPE).build();
        } catch (AuthnException e) {
            auditAuthn(request, serviceId, account, "authenticate", attempt.roleId, attempt.reason != null
                    ? attempt.reason : e.status() == 401 ? "CONJ00002E Invalid credentials" : e.getMessage());
            if (e.status() == 429) {
                return Response.fromResponse(json(429, ApiError.of("too_many_requests", e.getMessage())))
                        .header("Retry-After", Math.max(1, e.retryAfterSeconds())).build();
            }
            return e.getMessage().isEmpty() ? Response.status(e.status()).build()
                    : json(e.status(), ApiError.of("unauthorized", e.getMessage()));
        }
    }

    /**
     * An {@code authn} event (conjur-api §6) for this authenticator: an authentication (the role once the token named
     * it, else {@code not-found}) or a configuration change by the caller.
     *
     * @param error {@code null} on success
     */
    private void auditAuthn(HttpServletRequest request, String serviceId, String account, String operation,
            String roleId, String error) {
        Audit a = audit;
        if (a == null) {
            return;
        }
        String role = roleId != null ? roleId : "not-found";
        String service = ServiceConfig.webserviceId(account, serviceId);
        String what = operation.equals("authenticate")
                ? (error == null ? " successfully authenticated" : " failed to authenticate") + " with authenticator"
                : (error == null ? " successfully updated" : " failed to update") + " authenticator configuration";
        a.record(AuditEvent.builder("authn", operation, error == null)
                .request(request.getAttribute(AuditEvent.REQUEST_ID),
                        ClientIp.of(request::getAttribute, request.getRemoteAddr()))
                .subject("role", role).user(role).sd(AuditEvent.AUTH, "authenticator", "authn-jwt")
                .sd(AuditEvent.AUTH, "service", service)
                .message(role + what + " authn-jwt service " + service + (error == null ? "" : ": " + error))
                .build());
    }

    @PATCH
    @Consumes(MediaType.WILDCARD)
    public Response configure(@PathParam("service_id") String serviceId, @PathParam("account") String account,
            @HeaderParam("Content-Type") String contentType, byte[] body, @Context HttpServletRequest request) {
        Identity caller = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (caller == null) {
            return Response.status(401).build();
        }
        String op = "update-authenticator-configuration";
        Access access = permissions.check(caller.roleId(), ServiceConfig.webserviceId(account, serviceId), "update");
        if (access == Access.INVISIBLE) {
            auditAuthn(request, serviceId, account, op, caller.roleId(),
                    ApiError.notFoundMessage(account, "webservice", "conjur/authn-jwt/" + serviceId));
            return json(404, ApiError.notFound(account, "webservice", "conjur/authn-jwt/" + serviceId));
        }
        if (access != Access.ALLOWED) {
            auditAuthn(request, serviceId, account, op, caller.roleId(), ApiError.FORBIDDEN);
            return Response.status(403).build();
        }
        Boolean enabled = enabledField(contentType, body);
        if (enabled == null) {
            auditAuthn(request, serviceId, account, op, caller.roleId(), "the body must set enabled to true or false");
            return json(422, ApiError.of("argument_error", "the body must set enabled to true or false"));
        }
        try {
            settings.setEnabled(account, serviceId, enabled);
        } catch (SQLException e) {
            throw new IllegalStateException("authenticator_configs could not be written: " + e.getSQLState(), e);
        }
        auditAuthn(request, serviceId, account, op, caller.roleId(), null);
        return Response.noContent().build();
    }

    @GET
    @Path("status")
    public Response status(@PathParam("service_id") String serviceId, @PathParam("account") String account,
            @Context HttpServletRequest request) {
        Identity caller = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (caller == null) {
            return Response.status(401).build();
        }
        JwtAuthenticator.Status s = authn.status(serviceId, account, caller.roleId());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", s.error() == null ? "ok" : "error");
        if (s.error() != null) {
            out.put("error", s.error());
        }
        return json(s.code(), out);
    }

    /** @return {@code enabled} from a JSON object or a form body, or {@code null} when missing or not a boolean */
    static Boolean enabledField(String contentType, byte[] body) {
        String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).trim();
        String value;
        if ((contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).contains("json"))
                || text.startsWith("{")) {
            try {
                JsonNode node = JSON.readTree(text).path("enabled");
                value = node.isBoolean() || node.isTextual() ? node.asText() : null;
            } catch (IOException e) {
                return null;
            }
        } else {
            value = formField(body, "enabled");
        }
        return "true".equals(value) ? Boolean.TRUE : "false".equals(value) ? Boolean.FALSE : null;
    }

    /** @return the first value of {@code name} in an {@code application/x-www-form-urlencoded} body, or null */
    static String formField(byte[] body, String name) {
        if (body == null) {
            return null;
        }
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            try {
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                if (key.trim().equals(name)) {
                    return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8).trim();
                }
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }

    private static Response json(int status, Object body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }
}
