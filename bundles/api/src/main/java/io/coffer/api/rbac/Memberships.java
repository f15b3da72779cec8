package io.coffer.api.rbac;

/**
 * Write side of role grants outside policy loads ({@code POST|DELETE /roles/...?members&member=}). Leader only; the
 * caller has checked the privilege on the role's policy.
 */
public interface Memberships {
    /**
     * Makes {@code memberId} a member of {@code roleId} (no admin option), stamped with the role's policy, with a
     * change-log row. Granting an existing membership changes nothing.
     *
     * @param roleId the role granted
     * @param memberId the role receiving it
     * @param beforeCommit run inside the transaction once the membership was added, before it commits (the audit
     *        event); if it throws, nothing is granted
     * @return whether a membership was added
     * @throws IllegalArgumentException when either role does not exist, or the grant would make a role its own member
     */
    boolean grant(String roleId, String memberId, Runnable beforeCommit);

    /**
     * Removes the (non-ownership) membership, with a change-log row; absent memberships change nothing.
     *
     * @param roleId the role
     * @param memberId the member
     * @param beforeCommit run inside the transaction once the membership was removed, before it commits; if it
     *        throws, nothing is removed
     * @return whether a membership was removed
     * @throws IllegalArgumentException when either role does not exist
     */
    boolean revoke(String roleId, String memberId, Runnable beforeCommit);
}
