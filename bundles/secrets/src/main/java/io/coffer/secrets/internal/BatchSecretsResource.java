package io.coffer.secrets.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.HeaderParam;
import javax.ws.rs.Path;
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

import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.secrets.SecretWriter;

/**
 * {@code GET /secrets?variable_ids=a:variable:x,a:variable:y} with Conjur's batch rules (conjur-api §1.2): authorisation
 * before existence, so an invisible variable is 403 here; values must be UTF-8 unless the client asks for base64
 * (the whole header, not a list element), in which case each is MIME base64.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/secrets")
public class BatchSecretsResource {
    static final int MAX_IDS = 1000;

    private final Sealer sealer;
    private final Permissions permissions;
    private final SecretCache cache;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public BatchSecretsResource(@Reference SecretCache cache, @Reference Sealer sealer,
            @Reference Permissions permissions) {
        this.sealer = sealer;
        this.permissions = permissions;
        this.cache = cache;
    }

    @GET
    public Response batch(@QueryParam("variable_ids") String variableIds,
            @HeaderParam("Accept-Encoding") String acceptEncoding, @Context HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(SecretsResource.IDENTITY);
        if (who == null) {
            return Response.status(401).build();
        }
        Set<String> ids = new LinkedHashSet<>();
        if (variableIds != null) {
            for (String id : variableIds.split(",", -1)) {
                if (id.isBlank()) {
                    return SecretsResource.error(422, "argument_error", "variable_ids");
                }
                ids.add(id.trim());
            }
        }
        if (ids.isEmpty() || ids.size() > MAX_IDS) {
            return SecretsResource.error(422, "argument_error", "variable_ids");
        }
        for (String id : ids) {
            if (permissions.check(who.roleId(), id, "execute") != Access.ALLOWED) {
                SecretsResource.audit(audit, request, who, "fetch", id, null, "Forbidden");
                return Response.status(403).build();
            }
        }
        boolean base64 = acceptEncoding != null && acceptEncoding.trim().equalsIgnoreCase("base64");
        Map<String, String> out = new LinkedHashMap<>();
        try {
            Map<String, byte[]> values = new LinkedHashMap<>();
            for (String id : ids) {
                SecretCache.Entry e = cache.get(id, null);
                if (e != null) {
                    values.put(id, sealer.open(e.sealed, SecretWriter.context(id, e.version)));
                }
            }
            for (String id : ids) {
                byte[] v = values.get(id);
                if (v == null) {
                    SecretsResource.audit(audit, request, who, "fetch", id, null, "CONJ00076E Variable " + id
                            + " is empty or not found.");
                    return SecretsResource.error(404, "not_found", "CONJ00076E Variable " + id
                            + " is empty or not found.");
                }
                if (base64) {
                    out.put(id, Base64.getMimeEncoder(60, new byte[] {'\n'}).encodeToString(v) + "\n");
                } else {
                    try {
                        out.put(id, StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(v)).toString());
                    } catch (CharacterCodingException e) {
                        return SecretsResource.error(406, "not_acceptable", "Variable " + id
                                + " is not valid UTF-8; request it with Accept-Encoding: base64");
                    }
                }
                java.util.Arrays.fill(v, (byte) 0);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("secrets unavailable: " + e.getSQLState(), e);
        }
        // One event per variable, recorded before any value leaves (a full audit queue answers 503 instead).
        for (String id : ids) {
            SecretsResource.audit(audit, request, who, "fetch", id, null, null);
        }
        Response.ResponseBuilder r = Response.ok(out, MediaType.APPLICATION_JSON_TYPE);
        return base64 ? r.header("Content-Encoding", "base64").build() : r.build();
    }

}
