package io.coffer.api.health;

/**
 * A concern's contribution to the node's health, registered as an OSGi service. The node's report is healthy only
 * when every registered check is.
 */
public interface HealthCheck {

    /**
     * @return the key of this check in the {@code /health} document, e.g. {@code database}; unique per node
     */
    String name();

    /**
     * Checks the concern now. Called on every health request (load balancers poll every second or faster), so it
     * must be cheap and bounded: at most one short query, with a timeout.
     *
     * @return the current health; never {@code null}, never throws (a failure is reported as unhealthy)
     */
    ComponentHealth check();
}
