package io.coffer.api.replication;

/**
 * Changes this node's role in place. Promotion makes it the Leader: its database is promoted, its role becomes
 * {@code leader} and the write side is activated without refreshing a core bundle. Used by {@code coffer:promote}
 * (manual failover) and by election (automatic failover), which also demotes a Leader another node replaced.
 */
public interface Promoter {

    /**
     * @throws IllegalStateException when the node can't be promoted (already a Leader, not a replica, or the
     *         database did not leave recovery in time)
     */
    void promoteToLeader();

    /**
     * Installs the write side ahead of a promotion, so promoting costs no feature resolution. Its routes stay closed
     * while the role is not {@code leader} (a Standby answers every API route with 503). Called by election on the
     * Standbys of an auto-failover cluster, where the failover time matters.
     *
     * @throws IllegalStateException when the write side could not be installed
     */
    void prepare();

    /**
     * Demotes a Leader that another node replaced: its role becomes {@code standby} in place, so its API closes
     * (503) and load balancers stop sending it anything. Its database is left as it is, for the rejoin to rewind.
     *
     * @throws IllegalStateException when the role could not be changed
     */
    void demoteToStandby();
}
