package io.coffer.api.metrics;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The node's metrics, kept by the metrics bundle. Requests are labelled by route <em>template</em> (e.g.
 * {@code /secrets/{account}/{kind}/{id}}), never by the raw path: ids are names, and one series per id would both leak
 * them and grow without bound.
 */
public interface Metrics {
    /** The route label of a request no route template matched. */
    String UNMATCHED = "unmatched";

    /** The content type of {@link #write}: Prometheus text exposition format 0.0.4. */
    String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * One API request, answered.
     *
     * @param method the HTTP method
     * @param route the route template that answered it, or {@link #UNMATCHED}
     * @param status the HTTP status sent
     * @param nanos how long it took, in nanoseconds
     */
    void request(String method, String route, int status, long nanos);

    /**
     * Writes every metric in the Prometheus text format 0.0.4 ({@link #CONTENT_TYPE}); gauges read from the node's
     * health are computed now.
     */
    void write(OutputStream out) throws IOException;
}
