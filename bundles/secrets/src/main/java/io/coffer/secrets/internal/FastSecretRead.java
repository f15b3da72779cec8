package io.coffer.secrets.internal;

import java.io.IOException;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.apache.cxf.common.util.UrlUtils;
import org.apache.cxf.interceptor.Fault;
import org.apache.cxf.message.Message;
import org.apache.cxf.phase.AbstractPhaseInterceptor;
import org.apache.cxf.phase.Phase;
import org.apache.cxf.transport.http.AbstractHTTPDestination;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.RandomIds;
import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.KeyState;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.rest.ClientIp;
import io.coffer.api.secrets.SecretWriter;

/**
 * The hot read path, answered before JAX-RS: a successful {@code GET /secrets/{account}/variable/{id}} (no query,
 * no {@code X-Coffer-Position}) on a node that serves reads, with unlocked keys, a valid token, {@code execute}
 * allowed and a value present. Measured with JFR, CXF's JAX-RS machinery (resource matching, provider and media
 * type selection, the out chain) was about two thirds of a warm read's CPU; this skips it.
 *
 * <p>It only ever answers the success: anything else — a bad or missing token, no permission, no value, a locked
 * node, a value that won't open, a full audit queue — falls through untouched to the JAX-RS route, which produces
 * the error, its audit event and its status exactly as before. The success is answered as the route does: the same
 * audit event (recorded before the value leaves), body, {@code Content-Type}, {@code X-Request-Id} and
 * {@code Date}.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true")
public class FastSecretRead extends AbstractPhaseInterceptor<Message> {
    private static final Pattern ROUTE = Pattern.compile("^/secrets/([^/]+)/variable/(.+)$");

    private final SecretCache cache;
    private final Sealer sealer;
    private final Permissions permissions;
    private final NodeIdentity node;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AccessTokens tokens;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile KeyState keys;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Audit audit;

    @Activate
    public FastSecretRead(@Reference SecretCache cache, @Reference Sealer sealer, @Reference Permissions permissions,
            @Reference NodeIdentity node) {
        super(Phase.RECEIVE);
        // The REST layer's client-address decision must be made before this audits.
        addAfter(ClientIp.DECIDER);
        this.cache = cache;
        this.sealer = sealer;
        this.permissions = permissions;
        this.node = node;
    }

    @Override
    public void handleMessage(Message message) throws Fault {
        HttpServletRequest request = (HttpServletRequest) message.get(AbstractHTTPDestination.HTTP_REQUEST);
        HttpServletResponse response = (HttpServletResponse) message.get(AbstractHTTPDestination.HTTP_RESPONSE);
        if (request != null && response != null && answered(request, response)) {
            message.getInterceptorChain().abort();
        }
    }

    /** @return whether the request was answered here (only ever with its success) */
    boolean answered(HttpServletRequest request, HttpServletResponse response) {
        if (!"GET".equals(request.getMethod()) || request.getQueryString() != null
                || request.getHeader("X-Coffer-Position") != null) {
            return false;
        }
        String uri = request.getRequestURI();
        int prefix = (request.getContextPath() == null ? 0 : request.getContextPath().length())
                + (request.getServletPath() == null ? 0 : request.getServletPath().length());
        Matcher m = ROUTE.matcher(uri.length() >= prefix ? uri.substring(prefix) : uri);
        String authorization = request.getHeader("Authorization");
        NodeRole role = node.role();
        KeyState k = keys;
        AccessTokens t = tokens;
        Audit a = audit;
        if (!m.matches() || authorization == null || (role != NodeRole.LEADER && role != NodeRole.FOLLOWER)
                || k == null || !k.unlocked() || t == null || a == null) {
            return false;
        }
        Identity who;
        try {
            who = t.verify(authorization);
        } catch (RuntimeException e) {
            // AuthnException among them: the route answers it (401, throttling, audit).
            return false;
        }
        String resourceId = UrlUtils.pathDecode(m.group(1)) + ":variable:" + UrlUtils.pathDecode(m.group(2));
        if (permissions.check(who.roleId(), resourceId, "execute") != Access.ALLOWED) {
            return false;
        }
        SecretCache.Entry e;
        byte[] value;
        try {
            e = cache.get(resourceId, null);
            if (e == null) {
                return false;
            }
            value = sealer.open(e.sealed, SecretWriter.context(resourceId, e.version));
        } catch (SQLException | RuntimeException ex) {
            return false;
        }
        try {
            String requestId = RandomIds.requestId(request.getHeader("X-Request-Id"));
            request.setAttribute(AuditEvent.REQUEST_ID, requestId);
            request.setAttribute(SecretsResource.IDENTITY, who);
            try {
                SecretsResource.audit(a, request, who, "fetch", resourceId, null, null);
            } catch (RuntimeException full) {
                // The route will try again and answer 503 if the queue is still full: never serve unaudited.
                return false;
            }
            response.setStatus(200);
            response.setDateHeader("Date", System.currentTimeMillis());
            response.setContentType(SecretsResource.contentType(e));
            response.setHeader("X-Request-Id", requestId);
            response.setContentLength(value.length);
            response.getOutputStream().write(value);
            response.flushBuffer();
            return true;
        } catch (IOException io) {
            // The client went away after the fetch was audited: nothing else to answer.
            return true;
        } finally {
            Arrays.fill(value, (byte) 0);
        }
    }
}
