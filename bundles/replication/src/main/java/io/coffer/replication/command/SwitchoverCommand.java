package io.coffer.replication.command;

import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.election.Leadership;

/**
 * {@code coffer:switchover}: on the Leader of an auto-failover cluster, hands the leadership to the synchronous
 * Standby with no failed request at the load balancer (architecture 76) and prints the write pause.
 */
@Service
@Command(scope = "coffer", name = "switchover", description = "Hand the leadership to the synchronous Standby "
        + "(auto-failover cluster; run on the Leader)")
public class SwitchoverCommand implements Action {
    @Reference(optional = true)
    private Leadership leadership;

    @Option(name = "--to", description = "The Standby to hand over to (default: the synchronous one etcd records)")
    String to;

    @Option(name = "--timeout", description = "Seconds the new Leader may take to answer as Leader (default 15)")
    int timeout = 15;

    @Override
    public Object execute() throws Exception {
        if (leadership == null) {
            throw new IllegalStateException("this node is not in an auto-failover cluster; in a manual-failover "
                    + "cluster stop the Leader, then coffer:promote a Standby and coffer:rebase the others");
        }
        if (timeout < 1 || timeout > 300) {
            throw new IllegalArgumentException("--timeout must be 1..300 seconds");
        }
        Map<String, Object> r = leadership.switchover(to, timeout * 1000L);
        System.out.println("switchover: " + r.get("from") + " -> " + r.get("to") + " in " + r.get("total_ms")
                + " ms; writes paused " + r.get("write_pause_ms") + " ms");
        return null;
    }
}
