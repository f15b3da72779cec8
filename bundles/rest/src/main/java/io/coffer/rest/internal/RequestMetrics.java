package io.coffer.rest.internal;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.apache.cxf.jaxrs.model.ClassResourceInfo;
import org.apache.cxf.jaxrs.model.OperationResourceInfo;
import org.apache.cxf.message.Exchange;
import org.apache.cxf.message.Message;
import org.apache.cxf.transport.MessageObserver;
import org.apache.cxf.transport.http.AbstractHTTPDestination;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.metrics.Metrics;

/**
 * Wraps the API endpoint's message observer, so every request is counted once it is answered — whatever answered
 * it: a JAX-RS resource, a pre-matching filter's refusal, a fault, or a fast path ahead of JAX-RS that aborts the
 * chain (an interceptor or response filter would miss some of these). Labelled by route template.
 */
final class RequestMetrics implements MessageObserver {
    private static final Logger LOG = LoggerFactory.getLogger(RequestMetrics.class);
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    /** The route label of a request relayed to the new Leader during a switchover. */
    static final String RELAYED = "relayed";

    final MessageObserver inner;
    private final List<ClassResourceInfo> resources;
    private final Supplier<Metrics> metrics;

    RequestMetrics(MessageObserver inner, List<ClassResourceInfo> resources, Supplier<Metrics> metrics) {
        this.inner = inner;
        this.resources = resources;
        this.metrics = metrics;
    }

    @Override
    public void onMessage(Message message) {
        Metrics m = metrics.get();
        if (m == null) {
            inner.onMessage(message);
            return;
        }
        long start = System.nanoTime();
        boolean thrown = true;
        try {
            inner.onMessage(message);
            thrown = false;
        } finally {
            try {
                record(m, message, thrown, System.nanoTime() - start);
            } catch (RuntimeException e) {
                LOG.debug("request not counted", e);
            }
        }
    }

    private void record(Metrics m, Message message, boolean thrown, long nanos) {
        HttpServletRequest request = (HttpServletRequest) message.get(AbstractHTTPDestination.HTTP_REQUEST);
        HttpServletResponse response = (HttpServletResponse) message.get(AbstractHTTPDestination.HTTP_RESPONSE);
        String method = request == null ? (String) message.get(Message.HTTP_REQUEST_METHOD) : request.getMethod();
        method = method != null && METHODS.contains(method) ? method : "other";
        int status = thrown ? 500 : response == null ? 0 : response.getStatus();
        m.request(method, route(message, request, method), status, nanos);
    }

    String route(Message message, HttpServletRequest request, String method) {
        if (Boolean.TRUE.equals(message.get(Handover.RELAYED))) {
            return RELAYED; // the new Leader served it and counts it by route
        }
        Exchange exchange = message.getExchange();
        OperationResourceInfo ori = exchange == null ? null : exchange.get(OperationResourceInfo.class);
        if (ori != null) {
            return RouteTemplates.label(ori);
        }
        if (request == null) {
            return Metrics.UNMATCHED;
        }
        String uri = request.getRequestURI();
        int prefix = (request.getContextPath() == null ? 0 : request.getContextPath().length())
                + (request.getServletPath() == null ? 0 : request.getServletPath().length());
        String path = uri.length() >= prefix ? uri.substring(prefix) : uri;
        String t = RouteTemplates.match(resources, method, path.isEmpty() ? "/" : path);
        return t == null ? Metrics.UNMATCHED : t;
    }
}
