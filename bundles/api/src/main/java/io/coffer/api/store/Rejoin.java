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

    /**
     * Stops this Leader's database for a switchover (architecture 76): a fast shutdown, whose walsenders wait until
     * every connected Standby has the last WAL (the shutdown checkpoint), so the Standby that takes over and the
     * others end at the same point and none diverges. It stays stopped (the watchdog leaves it) until
     * {@link #rejoin} makes it a replica of the new Leader, or {@link #resumeAfterQuiesce} gives it back.
     *
     * @throws IllegalStateException when it could not be stopped cleanly in time (it is then restarted as it was)
     */
    default void quiesce() {
        throw new IllegalStateException("this database can't be stopped for a handover");
    }

    /** A switchover that stopped the database gave up before another node took over: start it again as it was. */
    default void resumeAfterQuiesce() {
    }
}
