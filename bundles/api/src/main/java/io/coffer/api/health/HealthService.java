package io.coffer.api.health;

/** The node's aggregated health, as served by {@code /health} on both the API and the health port. */
public interface HealthService {

    /** @return the current report; runs every registered {@link HealthCheck} */
    HealthReport report();
}
