package io.coffer.api.health;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One concern's health: whether it is fine, and details safe to show to anyone who can reach the health port
 * (never a secret, a password or a connection string with credentials).
 */
public final class ComponentHealth {
    private final boolean ok;
    private final Map<String, Object> details;

    private ComponentHealth(boolean ok, Map<String, Object> details) {
        this.ok = ok;
        this.details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /**
     * @param details name/value pairs (strings, numbers, booleans or nested maps of those), in display order
     * @return a healthy component
     */
    public static ComponentHealth ok(Map<String, Object> details) {
        return new ComponentHealth(true, details);
    }

    /**
     * @param details name/value pairs; should contain an {@code error} entry saying what is wrong
     * @return an unhealthy component
     */
    public static ComponentHealth failed(Map<String, Object> details) {
        return new ComponentHealth(false, details);
    }

    /** @return whether the component is healthy */
    public boolean ok() {
        return ok;
    }

    /** @return the details, unmodifiable, without the {@code ok} flag */
    public Map<String, Object> details() {
        return details;
    }

    /** @return {@code ok} first, then the details: the shape the health endpoints print */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", ok);
        m.putAll(details);
        return m;
    }
}
