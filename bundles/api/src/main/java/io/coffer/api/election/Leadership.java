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
}
