package io.coffer.rest.internal;

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
    static String accept(String offered) {
        return RandomIds.requestId(offered);
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
