package io.coffer.api.health;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import io.coffer.api.NodeRole;

/** The node's health at one instant: the aggregate of every {@link HealthCheck}. Immutable. */
public final class HealthReport {
    private final boolean ok;
    private final String node;
    private final NodeRole role;
    private final long uptimeSeconds;
    private final Map<String, ComponentHealth> components;

    /**
     * @param node the node's name
     * @param role the node's role
     * @param uptimeSeconds seconds since the node started
     * @param components each check's result keyed by {@link HealthCheck#name()}
     * @param ready whether the node finished starting (all expected checks are registered)
     */
    public HealthReport(String node, NodeRole role, long uptimeSeconds, Map<String, ComponentHealth> components,
            boolean ready) {
        this.node = node;
        this.role = role;
        this.uptimeSeconds = uptimeSeconds;
        this.components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
        this.ok = ready && components.values().stream().allMatch(ComponentHealth::ok);
    }

    /** @return true when the node is ready and every check is healthy */
    public boolean ok() {
        return ok;
    }

    /** @return the node's name */
    public String node() {
        return node;
    }

    /** @return the node's role */
    public NodeRole role() {
        return role;
    }

    /** @return seconds since start */
    public long uptimeSeconds() {
        return uptimeSeconds;
    }

    /** @return each check's result by name */
    public Map<String, ComponentHealth> components() {
        return components;
    }

    /** @return the JSON shape of {@code /health}: {@code ok}, {@code role}, {@code node}, uptime, then each check */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", ok);
        m.put("role", role.id());
        m.put("node", node);
        m.put("uptime_seconds", uptimeSeconds);
        components.forEach((k, v) -> m.put(k, v.toMap()));
        return m;
    }
}
