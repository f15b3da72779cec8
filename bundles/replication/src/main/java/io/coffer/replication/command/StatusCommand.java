package io.coffer.replication.command;

import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.api.replication.ReplicationStrategy;

/** {@code coffer:replication-status}: the Leader's replicas, or a replica's upstream and lag. */
@Service
@Command(scope = "coffer", name = "replication-status", description = "Replicas and lag (Leader), upstream (replica)")
public class StatusCommand implements Action {
    @Reference
    private ReplicationStrategy replication;

    @Override
    public Object execute() {
        Map<String, Object> s = replication.status();
        ShellTable t = new ShellTable();
        t.column("Field");
        t.column("Value");
        s.forEach((k, v) -> {
            if (!(v instanceof List)) {
                t.addRow().addContent(k, String.valueOf(v));
            }
        });
        t.print(System.out);
        Object replicas = s.get("replicas");
        if (replicas instanceof List && !((List<?>) replicas).isEmpty()) {
            ShellTable r = new ShellTable();
            r.column("Replica");
            r.column("State");
            r.column("Sync");
            r.column("Lag bytes");
            r.column("Lag s");
            for (Object o : (List<?>) replicas) {
                Map<?, ?> m = (Map<?, ?>) o;
                r.addRow().addContent(m.get("name"), m.get("state"), m.get("sync_state"), m.get("lag_bytes"),
                        m.get("lag_seconds"));
            }
            r.print(System.out);
        }
        return null;
    }
}
