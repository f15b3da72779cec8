package io.coffer.api.replication;

import java.util.Map;

/**
 * How this node takes part in replication, chosen by its role and its database's state: a primary (the Leader)
 * stamps the heartbeat and keeps one Standby synchronous; a replica (Standby, Follower, DR Standby) streams from its
 * upstream and can be promoted by hand.
 */
public interface ReplicationStrategy {
    /** @return {@code primary} or {@code replica} */
    String mode();

    /** @return what {@code /health} reports under {@code replication}: replicas and lag, or upstream and lag */
    Map<String, Object> status();

    /**
     * Promotes this replica's database (manual failover): the node becomes writable on a new timeline.
     *
     * @throws IllegalStateException when this node is not a replica, or the promotion did not finish in time
     */
    void promote();

    /**
     * Re-points this replica at another upstream (after a manual failover), without a restart; it keeps its name
     * towards the new upstream. A database that is not a replica (a replaced Leader, demoted) rejoins instead: it is
     * rewound onto the upstream's timeline (or seeded afresh) and restarted as a replica.
     *
     * @param host the new upstream's host (the new Leader, or the load balancer's replication frontend)
     * @param port its PostgreSQL port
     * @throws IllegalStateException when this node's role is still {@code leader}, or the rejoin failed
     */
    void rebase(String host, int port);

    /**
     * Makes this node's database a replica of the upstream whatever its state: a writable one (a replaced Leader) or
     * a replica whose timeline diverged from the upstream's is rewound with pg_rewind (or seeded afresh) and
     * restarted streaming. What it loses was never confirmed by the synchronous Standby, so never acknowledged.
     *
     * @param host the upstream's host
     * @param port its PostgreSQL port
     * @throws IllegalStateException when this node's role is still {@code leader}, or the rejoin failed
     */
    void rejoin(String host, int port);

    /** @see io.coffer.api.store.Rejoin#quiesce() */
    default void quiesce() {
        throw new IllegalStateException("this node's replication can't stop its database for a handover");
    }

    /** @see io.coffer.api.store.Rejoin#resumeAfterQuiesce() */
    default void resumeAfterQuiesce() {
    }
}
