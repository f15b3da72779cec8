/**
 * Metrics: the REST layer reports each API request to a {@link io.coffer.api.metrics.Metrics} service, and the health
 * port asks it for the Prometheus text at {@code /metrics}. No metrics library's type appears here.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api.metrics;
