package io.coffer.authn.internal;

import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.HeaderParam;
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

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;

import io.coffer.api.authn.AuthnException;
import io.coffer.api.rest.ClientIp;

/** {@code /authn/{account}/login} and {@code /authn/{account}/{login}/authenticate}, as Conjur answers them. */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/authn/{account}")
public class AuthnResource {
    private final ApiKeyAuthenticator authn;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public AuthnResource(@Reference ApiKeyAuthenticator authn) {
        this.authn = authn;
    }

    @GET
    @Path("login")
    public Response login(@PathParam("account") String account, @HeaderParam("Authorization") String authorization,
            @Context HttpServletRequest request) {
        String login;
        try {
            login = ApiKeyAuthenticator.parseBasic(authorization)[0];
        } catch (AuthnException e) {
            login = null;
        }
        try {
            byte[] key = authn.loginBasic(account, authorization, clientIp(request));
            audit("login", account, login, null, request);
            return Response.ok(key, MediaType.TEXT_PLAIN_TYPE).build();
        } catch (AuthnException e) {
            audit("login", account, login, e, request);
            return failure(e);
        }
    }

    @POST
    @Path("{login}/authenticate")
    @Consumes(MediaType.WILDCARD)
    public Response authenticate(@PathParam("account") String account, @PathParam("login") String login,
            @HeaderParam("Accept-Encoding") String acceptEncoding, byte[] body, @Context HttpServletRequest request) {
        try {
            byte[] token = authn.authenticate(account, login, body == null ? new byte[0] : body,
                    clientIp(request));
            audit("authenticate", account, login, null, request);
            if (wantsBase64(acceptEncoding)) {
                return Response.ok(Base64.getEncoder().encodeToString(token), MediaType.TEXT_PLAIN_TYPE)
                        .header("Content-Encoding", "base64").build();
            }
            return Response.ok(token, MediaType.APPLICATION_JSON_TYPE).build();
        } catch (AuthnException e) {
            audit("authenticate", account, login, e, request);
            return failure(e);
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
    }

    /** One {@code authn} event (conjur-api §6); the credential never reaches it. */
    private void audit(String operation, String account, String login, AuthnException failure,
            HttpServletRequest request) {
        Audit a = audit;
        if (a == null) {
            return;
        }
        String role;
        try {
            role = ApiKeyAuthenticator.roleId(account, login);
        } catch (AuthnException e) {
            role = "not-found";
        }
        String service = account + ":webservice:conjur/authn";
        String verb = operation.equals("login") ? (failure == null ? "successfully logged in" : "failed to login")
                : (failure == null ? "successfully authenticated" : "failed to authenticate");
        String error = failure == null ? "" : ": " + (failure.status() == 401 ? "CONJ00002E Invalid credentials"
                : failure.getMessage());
        a.record(AuditEvent.builder("authn", operation, failure == null)
                .request(request.getAttribute(AuditEvent.REQUEST_ID), clientIp(request))
                .subject("role", role).user(role).sd(AuditEvent.AUTH, "authenticator", "authn")
                .sd(AuditEvent.AUTH, "service", service)
                .message(role + " " + verb + " with authenticator authn service " + service + error).build());
    }

    private static String clientIp(HttpServletRequest request) {
        return ClientIp.of(request::getAttribute, request.getRemoteAddr());
    }

    /** 401 bodies are empty, as Conjur sends them; 429 says why and when to come back. */
    static Response failure(AuthnException e) {
        if (e.status() == 429) {
            return Response.status(429).type(MediaType.APPLICATION_JSON_TYPE)
                    .header("Retry-After", Long.toString(Math.max(1, e.retryAfterSeconds())))
                    .entity("{\"error\":{\"code\":\"too_many_requests\",\"message\":\"" + e.getMessage() + "\"}}")
                    .build();
        }
        return Response.status(e.status()).build();
    }

    /** {@code Accept-Encoding} elements split on commas, trimmed, compared case-insensitively (Conjur's rule). */
    static boolean wantsBase64(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String e : acceptEncoding.split(",")) {
            if (e.trim().toLowerCase(Locale.ROOT).equals("base64")) {
                return true;
            }
        }
        return false;
    }
}
