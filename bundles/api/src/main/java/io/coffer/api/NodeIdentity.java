package io.coffer.api;

import java.time.Instant;

/**
 * The running node: its name, its configured role and when it started. Registered once per node.
 * Implementations are immutable snapshots of configuration and safe to call from any thread.
 */
public interface NodeIdentity {

    /** @return the node's stable name, e.g. {@code n1}; used in {@code X-Coffer-Node} and etcd keys */
    String name();

    /** @return the role this node was configured with */
    NodeRole role();

    /** @return the instant the node's identity component became active */
    Instant startedAt();
}
