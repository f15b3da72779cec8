/**
 * Health reporting: each concern contributes a {@link io.coffer.api.health.HealthCheck}; the node aggregates them into
 * one {@link io.coffer.api.health.HealthReport} served at {@code /health}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.coffer.api.health;
