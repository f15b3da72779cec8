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

import io.coffer.api.authn.AuthnException;

/** {@code /authn/{account}/login} and {@code /authn/{account}/{login}/authenticate}, as Conjur answers them. */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/authn/{account}")
public class AuthnResource {
    private final ApiKeyAuthenticator authn;

    @Activate
    public AuthnResource(@Reference ApiKeyAuthenticator authn) {
        this.authn = authn;
    }

    @GET
    @Path("login")
    public Response login(@PathParam("account") String account, @HeaderParam("Authorization") String authorization,
            @Context HttpServletRequest request) {
        try {
            return Response.ok(authn.loginBasic(account, authorization, request.getRemoteAddr()),
                    MediaType.TEXT_PLAIN_TYPE).build();
        } catch (AuthnException e) {
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
                    request.getRemoteAddr());
            if (wantsBase64(acceptEncoding)) {
                return Response.ok(Base64.getEncoder().encodeToString(token), MediaType.TEXT_PLAIN_TYPE)
                        .header("Content-Encoding", "base64").build();
            }
            return Response.ok(token, MediaType.APPLICATION_JSON_TYPE).build();
        } catch (AuthnException e) {
            return failure(e);
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
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
