package io.coffer.replication.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.rest.ApiError;
import io.coffer.api.rest.ClientIp;

/**
 * {@code POST /enrolment/{id}} (form: token, role, name): a new node consuming its seed. No access token: the seed's
 * token is the credential. 204 once; 409 when used, revoked or expired; 403 for another role or name; 401 for an
 * unknown seed or a wrong token (indistinguishable). A Follower answers 405 (a write) before reaching this.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/enrolment/{id}")
@Produces(MediaType.APPLICATION_JSON)
public class EnrolmentResource {
    private final Enrolment enrolment;

    @Activate
    public EnrolmentResource(@Reference Enrolment enrolment) {
        this.enrolment = enrolment;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response consume(@PathParam("id") String id, byte[] body, @Context HttpServletRequest request)
            throws SQLException {
        UUID seed;
        try {
            seed = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return Response.status(401).build();
        }
        Map<String, String> form = new HashMap<>();
        String text = new String(body == null ? new byte[0] : body, 0, Math.min(body == null ? 0 : body.length, 4096),
                StandardCharsets.UTF_8);
        for (String part : text.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                try {
                    form.put(part.substring(0, eq), URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    return Response.status(422).entity(ApiError.of("argument_error", "not form encoded")).build();
                }
            }
        }
        Enrolment.Outcome o = enrolment.consume(seed, form.get("token"), form.get("role"), form.get("name"),
                ClientIp.of(request::getAttribute, request.getRemoteAddr()));
        switch (o) {
            case CONSUMED:
                return Response.noContent().build();
            case UNKNOWN:
                return Response.status(401).build();
            default:
                return Response.status(o.status).entity(ApiError.of(o.status == 403 ? "forbidden" : "seed_" + o.name()
                        .toLowerCase(), o.status == 403 ? "this seed was issued for another node name or role"
                        : "this seed was already " + o.name().toLowerCase().replace("used", "consumed")
                                + "; ask the Leader's operator for a new one")).build();
        }
    }
}
