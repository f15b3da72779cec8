package io.coffer.rest.internal;

import java.util.regex.Pattern;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.ContainerResponseContext;
import javax.ws.rs.container.ContainerResponseFilter;
import javax.ws.rs.container.PreMatching;

import io.coffer.api.RandomIds;

/**
 * {@code X-Request-Id}: a client's id is kept when it is at most 128 printable ASCII characters, otherwise replaced
 * by a UUID (a hostile id must not reach logs or audit records as control characters). The id is echoed in the
 * response and left as the request property {@code coffer.request-id} for audit.
 */
@PreMatching
public class RequestIds implements ContainerRequestFilter, ContainerResponseFilter {
    public static final String HEADER = "X-Request-Id";
    public static final String PROPERTY = "coffer.request-id";
    private static final Pattern PRINTABLE = Pattern.compile("[\\x21-\\x7e]{1,128}");

    static String accept(String offered) {
        return offered != null && PRINTABLE.matcher(offered).matches() ? offered : RandomIds.uuid().toString();
    }

    @Override
    public void filter(ContainerRequestContext request) {
        request.setProperty(PROPERTY, accept(request.getHeaderString(HEADER)));
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        Object id = request.getProperty(PROPERTY);
        if (id != null) {
            response.getHeaders().putSingle(HEADER, id);
        }
    }
}
