package io.coffer.authn.internal;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;

import io.coffer.api.authn.Identity;
import io.coffer.api.rest.ClientIp;

/** {@code GET /whoami}: the caller as its token says (the token filter has verified it). */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
@Path("/whoami")
public class WhoamiResource {
    /** Request attribute under which the token filter leaves the verified {@link Identity}. */
    static final String IDENTITY = "coffer.identity";
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> whoami(@Context HttpServletRequest request) {
        Identity id = (Identity) request.getAttribute(IDENTITY);
        if (id == null) {
            throw new javax.ws.rs.NotAuthorizedException("Token");
        }
        String clientIp = ClientIp.of(request::getAttribute, request.getRemoteAddr());
        Audit a = audit;
        if (a != null) {
            a.record(AuditEvent.builder("identity-check", "check", true)
                    .request(request.getAttribute(AuditEvent.REQUEST_ID), clientIp)
                    .subject("role", id.roleId()).user(id.roleId())
                    .message(id.roleId() + " checked its identity using whoami").build());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("client_ip", clientIp);
        m.put("user_agent", request.getHeader("User-Agent"));
        m.put("account", id.account());
        m.put("username", id.login());
        m.put("token_issued_at", DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx")
                .format(id.issuedAt().atOffset(ZoneOffset.UTC)));
        return m;
    }
}
