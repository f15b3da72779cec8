package io.coffer.replication.command;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.replication.internal.Enrolment;

/**
 * {@code coffer:seed-create --role follower NAME}: on the Leader, issues a new node's enrolment seed and its
 * one-time passphrase (shown once; send them by different channels). The new node: {@code ./coffer start --seed
 * FILE --passphrase-file FILE}.
 */
@Service
@Command(scope = "coffer", name = "seed-create", description = "Issue an enrolment seed for a new replica (Leader)")
public class SeedCreateCommand implements Action {
    @Reference
    private Enrolment seeds;

    @Reference
    private NodeIdentity node;

    @Reference
    private Session session;

    @Argument(index = 0, name = "name", required = true, description = "The new node's name (a-z, 0-9, _, -)")
    String name;

    @Option(name = "--role", required = true, description = "standby, follower or dr-standby")
    @Completion(value = StringsCompleter.class, values = {"standby", "follower", "dr-standby"})
    String role;

    @Option(name = "--ttl", description = "Minutes the seed stays valid (default 60, at most 1440)")
    int ttlMinutes = 60;

    @Option(name = "--upstream", description = "host:port the new node streams from (default: this node's "
            + "PostgreSQL on 127.0.0.1; in production the cluster load balancer's replication frontend)")
    String upstream;

    @Option(name = "--api-url", description = "URL the new node reports to (default: this node's API)")
    String apiUrl;

    @Override
    public Object execute() throws Exception {
        if (node.role() != NodeRole.LEADER) {
            throw new IllegalStateException("seeds are issued on the Leader");
        }
        Object user = session.get("USER");
        Enrolment.Issued s = seeds.issue(name, role, Duration.ofMinutes(ttlMinutes), upstream, apiUrl,
                "shell:" + (user == null ? "unknown" : user));
        System.out.println("seed " + s.id + " for " + name + " (" + role + "), valid " + ttlMinutes + " min; "
                + "passphrase (shown once): " + s.passphrase);
        System.out.println(s.seed);
        return null;
    }
}
