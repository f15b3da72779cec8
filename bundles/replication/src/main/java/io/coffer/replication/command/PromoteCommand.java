package io.coffer.replication.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.replication.Promoter;

/**
 * {@code coffer:promote}: manual failover on a Standby or DR Standby. Promotes the database, makes the node's role
 * {@code leader} (in place: nothing restarts) and installs the write side without refreshing a core bundle. The old
 * Leader must be stopped or fenced first; the other replicas are then re-pointed at this node.
 */
@Service
@Command(scope = "coffer", name = "promote", description = "Promote this Standby to Leader (manual failover)")
public class PromoteCommand implements Action {
    @Reference
    private Promoter promoter;

    @Reference
    private NodeIdentity node;

    @Option(name = "--force", description = "Promote a Follower too (it has no write bundles to become a Leader with "
            + "until they are installed; normally promote a Standby)")
    boolean force;

    @Override
    public Object execute() throws Exception {
        NodeRole role = node.role();
        if (role == NodeRole.LEADER) {
            throw new IllegalStateException("node " + node.name() + " is already the Leader");
        }
        if (role == NodeRole.FOLLOWER && !force) {
            throw new IllegalStateException("node " + node.name() + " is a Follower; promote a Standby (or use --force)");
        }
        promoter.promoteToLeader();
        System.out.println("node " + node.name() + " promoted: its database is writable, its role is leader and the "
                + "write side is installed; re-point the other replicas at it");
        return null;
    }
}
