package io.coffer.api;

import java.util.Locale;

/**
 * What a node does in a Coffer cluster. The role comes from the node's configuration and decides which
 * Karaf features it runs and what its API answers.
 */
public enum NodeRole {
    /** Takes every write; a standalone node is a Leader. */
    LEADER("leader"),
    /** Streams the Leader's database (sync or async) inside the auto-failover cluster; serves no API. */
    STANDBY("standby"),
    /** Read-only replica close to applications: authentication, permission checks, secret reads. */
    FOLLOWER("follower"),
    /** Outside the auto-failover cluster; promoted by hand only; serves no API. */
    DR_STANDBY("dr-standby");

    private final String id;

    NodeRole(String id) {
        this.id = id;
    }

    /** @return the role's configuration and wire name, e.g. {@code dr-standby} */
    public String id() {
        return id;
    }

    /**
     * Parses a configured role name.
     *
     * @param value a role name such as {@code leader} (case-insensitive, surrounding blanks ignored)
     * @return the role
     * @throws IllegalArgumentException naming the accepted values when {@code value} is not one of them
     */
    public static NodeRole parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (NodeRole r : values()) {
            if (r.id.equals(v)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown node role '" + value
                + "': expected one of leader, standby, follower, dr-standby");
    }

    @Override
    public String toString() {
        return id;
    }
}
