package io.coffer.election.internal;

import io.coffer.api.NodeRole;

/**
 * Whether this node may take a vacant leader key. Only the synchronous Standby recorded in etcd may: it holds every
 * commit the old Leader acknowledged, and the old Leader can't acknowledge another once it is promoted (a commit
 * waits for it). A node whose keys are locked never takes the key: it could not serve a single request.
 */
final class Candidate {
    private Candidate() {
    }

    /**
     * @param recordedSync the application name etcd records as the synchronous Standby, or {@code null}
     * @return {@code null} when the node may take the key, else why it may not
     */
    static String refusal(NodeRole role, String node, Boolean inRecovery, boolean keysUnlocked, boolean canPromote,
            String recordedSync) {
        if (role != NodeRole.STANDBY) {
            return "a " + role.id() + " is never promoted automatically";
        }
        if (recordedSync == null) {
            return "etcd records no synchronous Standby";
        }
        if (!recordedSync.equals(applicationName(node))) {
            return "the recorded synchronous Standby is " + recordedSync;
        }
        if (!keysUnlocked) {
            return "this node's keys are locked";
        }
        if (!Boolean.TRUE.equals(inRecovery)) {
            return inRecovery == null ? "this node's database state is unknown" : "this node's database is not a replica";
        }
        if (!canPromote) {
            return "the promotion service is not running";
        }
        return null;
    }

    /** @return the replication application name a Standby streams under (the launcher's {@code standby_<name>}) */
    static String applicationName(String node) {
        return "standby_" + node.replace('-', '_').toLowerCase(java.util.Locale.ROOT);
    }
}
