package io.coffer.api.replication;

/**
 * Makes this node the Leader in place: its database is promoted, its role becomes {@code leader} and the write side
 * is activated without refreshing a core bundle. Used by {@code coffer:promote} (manual failover) and by election
 * (automatic failover).
 */
public interface Promoter {

    /**
     * @throws IllegalStateException when the node can't be promoted (already a Leader, not a replica, or the
     *         database did not leave recovery in time)
     */
    void promoteToLeader();
}
