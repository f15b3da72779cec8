package io.coffer.api.election;

import java.util.Map;
import java.util.Optional;

/**
 * The leadership of an auto-failover cluster, as this node sees it. Registered only where election is configured
 * (a Leader or Standby with etcd); without it a node's epoch is its PostgreSQL timeline and the role alone decides
 * who writes.
 */
public interface Leadership {

    /**
     * @return the epoch of the leadership this node holds: the create_revision of the leader key it created, which
     *         grows with every new leadership; 0 while it holds none
     */
    long epoch();

    /**
     * @return true while this node holds the leader key and its lease was last renewed recently enough that it can't
     *         have expired yet (with a safety margin). A Leader for which this turns false stops accepting writes.
     */
    boolean holdsLeadership();

    /** @return the node name in the leader key as last seen, empty when there is no leader key */
    Optional<String> leader();

    /**
     * @return the members as last read from etcd: node name → what the node published (role, healthy, lsn,
     *         timeline, synchronous, keys_unlocked, postgres)
     */
    Map<String, Map<String, Object>> members();

    /**
     * Records the synchronous Standby in etcd, guarded by this node's leader key. The Leader calls this before it
     * names that Standby in {@code synchronous_standby_names}, so the Standby etcd would promote is always one the
     * Leader waited for.
     *
     * @param applicationName the Standby's replication application name, e.g. {@code standby_n2}
     * @return true when etcd now records it; false when it could not (this node does not hold the leadership, or
     *         etcd is unreachable): the caller must not name it then
     */
    boolean recordSynchronous(String applicationName);

    /**
     * Switchover (architecture 76): hands this Leader's leadership to the synchronous Standby with no failed request
     * at the load balancer. New writes are held while the admitted ones finish and the Standby replays the last of
     * them; the leader key is released so the Standby (the one etcd records as synchronous) takes it and promotes
     * itself; then this node relays every request it still receives to the new Leader until the load balancer has
     * moved, and demotes itself (it rejoins as a Standby as any replaced Leader does).
     *
     * @param target the Standby to hand over to; null or empty for the recorded synchronous Standby
     * @param timeoutMillis how long the new Leader may take to answer as Leader
     * @return what happened: from, to, epoch, write_pause_ms, total_ms
     * @throws IllegalStateException when the move is refused (this node does not lead, the target is not the
     *         synchronous Standby, is unhealthy or locked, writes didn't drain, the Standby didn't catch up): then
     *         nothing changed and this node still leads
     */
    default Map<String, Object> switchover(String target, long timeoutMillis) {
        throw new IllegalStateException("this node's election does not hand over its leadership");
    }
}
