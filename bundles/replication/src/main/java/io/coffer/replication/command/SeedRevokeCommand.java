package io.coffer.replication.command;

import java.util.Map;
import java.util.UUID;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.replication.internal.Enrolment;

/** {@code coffer:seeds [--revoke ID]}: lists recent enrolment seeds, or revokes one not yet consumed. */
@Service
@Command(scope = "coffer", name = "seeds", description = "List enrolment seeds, or revoke one (--revoke ID)")
public class SeedRevokeCommand implements Action {
    @Reference
    private Enrolment seeds;

    @Option(name = "--revoke", description = "Revoke this seed (if not yet consumed)")
    String revoke;

    @Override
    public Object execute() throws Exception {
        if (revoke != null) {
            UUID id = UUID.fromString(revoke);
            System.out.println(seeds.revoke(id) ? "revoked seed " + id : "seed " + id + " is unknown, consumed or "
                    + "already revoked");
            return null;
        }
        ShellTable t = new ShellTable();
        for (String c : new String[] {"Seed", "Node", "Role", "Issued by", "Expires", "State"}) {
            t.column(c);
        }
        for (Map<String, Object> m : seeds.list()) {
            t.addRow().addContent(m.get("id"), m.get("name"), m.get("role"), m.get("created_by"), m.get("expires"),
                    m.get("state"));
        }
        t.print(System.out);
        return null;
    }
}
