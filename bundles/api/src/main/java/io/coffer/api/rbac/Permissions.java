package io.coffer.api.rbac;

/** Conjur's permission check: transitive memberships, ownership grants every privilege, visibility. Thread-safe. */
public interface Permissions {

    /**
     * @param roleId the acting role, e.g. {@code myorg:user:alice}
     * @param resourceId the resource, e.g. {@code myorg:variable:db/password}
     * @param privilege e.g. {@code execute}
     * @return whether the role may, may only see, or can't see
     */
    Access check(String roleId, String resourceId, String privilege);
}
