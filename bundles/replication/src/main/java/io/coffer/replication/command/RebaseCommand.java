package io.coffer.replication.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.replication.ReplicationStrategy;

/**
 * {@code coffer:rebase --upstream host:port}: after a manual failover, points this replica at the new Leader
 * without restarting it. Replicas that reach the Leader through the cluster load balancer never need this.
 */
@Service
@Command(scope = "coffer", name = "rebase", description = "Re-point this replica at a new upstream (manual failover)")
public class RebaseCommand implements Action {
    @Reference
    private ReplicationStrategy replication;

    @Option(name = "--upstream", required = true, description = "host:port of the new Leader's PostgreSQL")
    String upstream;

    @Override
    public Object execute() {
        int colon = upstream.lastIndexOf(':');
        if (colon < 1 || !upstream.substring(colon + 1).matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("--upstream must be host:port");
        }
        replication.rebase(upstream.substring(0, colon), Integer.parseInt(upstream.substring(colon + 1)));
        System.out.println("re-pointed at " + upstream + "; coffer:replication-status shows when it streams");
        return null;
    }
}
