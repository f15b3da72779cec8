package io.coffer.api.store;

/**
 * Turns this node's own database into a replica of another node's (architecture decision 58): the old Leader after a
 * failover, or a replica whose timeline diverged from its new upstream. Registered by the postgres bundle, which
 * alone may stop and start the node's PostgreSQL.
 */
public interface Rejoin {

    /**
     * Stops the database, rewinds it onto the upstream's timeline with pg_rewind (discarding what the upstream never
     * had: writes no client was told succeeded, since the synchronous Standby never confirmed them), or — when a
     * rewind can't — seeds it afresh by base backup, then starts it streaming from the upstream.
     *
     * @param host the upstream's host (the new Leader, or the load balancer's replication frontend)
     * @param port its PostgreSQL port
     * @param applicationName the name the upstream sees this replica by, {@code <role>_<node>}
     * @return how it rejoined: {@code rewound} or {@code reseeded}
     * @throws IllegalStateException when neither worked (the database is then left stopped, never half-written
     *         and started)
     */
    String rejoin(String host, int port, String applicationName);
}
