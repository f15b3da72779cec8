package io.coffer.election.internal;

/**
 * Where one auto-failover cluster keeps its state in etcd, all under {@code /coffer/<cluster>/} (the only prefix the
 * {@code coffer} etcd user may touch): {@code leader} (under the Leader's lease; its create_revision is the epoch),
 * {@code sync} (the recorded synchronous Standby), {@code last_leader} (who led last, so a Leader that lost its key
 * retakes it only if nobody led since) and {@code members/<node>} (each under its node's lease).
 */
final class Keys {
    private final String prefix;

    Keys(String cluster) {
        if (cluster == null || !cluster.matches("[A-Za-z0-9_-]{1,63}")) {
            throw new IllegalArgumentException("io.coffer.election: cluster '" + cluster
                    + "' must be 1-63 letters, digits, '-' or '_'");
        }
        this.prefix = "/coffer/" + cluster + "/";
    }

    String leader() {
        return prefix + "leader";
    }

    String sync() {
        return prefix + "sync";
    }

    String lastLeader() {
        return prefix + "last_leader";
    }

    String members() {
        return prefix + "members/";
    }

    String member(String node) {
        return members() + node;
    }
}
