package io.coffer.rest.internal;

import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Identity;

/**
 * Conjur's token middleware, before routing: token auth is required on every route except the few Conjur leaves
 * open, so a resource a bundle adds is protected by default. Without a token verifier on the node, protected routes
 * answer 503 rather than run unauthenticated.
 */
@PreMatching
public class TokenAuthFilter implements ContainerRequestFilter {
    /** Request attribute holding the verified {@link Identity}. */
    public static final String IDENTITY = "coffer.identity";
    private static final Pattern SKIP = Pattern.compile(
            "^/(authn[^/]*/.+/authenticate|authenticators|info|health(/.*)?|host_factories/hosts|authn-oidc/.+/providers"
                    + "|enrolment/[^/]+)?$");
    private static final Pattern OPTIONAL = Pattern.compile("^/(authn/|authn-[^/]+/|public_keys/).*");

    private final Supplier<AccessTokens> tokens;

    @Context
    private HttpServletRequest servletRequest;

    TokenAuthFilter(Supplier<AccessTokens> tokens) {
        this.tokens = tokens;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String path = request.getUriInfo().getRequestUri().getRawPath();
        if (SKIP.matcher(path).matches()) {
            return;
        }
        String header = request.getHeaderString("Authorization");
        boolean optional = OPTIONAL.matcher(path).matches();
        if (optional && (header == null || !header.trim().startsWith("Token"))) {
            return;
        }
        AccessTokens t = tokens.get();
        if (t == null) {
            request.abortWith(ApiErrors.error(503, "service_unavailable", "authentication is not available yet"));
            return;
        }
        try {
            Identity id = t.verify(header);
            request.setProperty(IDENTITY, id);
            if (servletRequest != null) {
                servletRequest.setAttribute(IDENTITY, id);
            }
        } catch (AuthnException e) {
            request.abortWith(Response.status(e.status()).type(MediaType.TEXT_PLAIN_TYPE).entity(e.getMessage())
                    .build());
        }
    }
}
