package io.coffer.rbac.command;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.api.store.Database;

/** {@code coffer:resource-show ACCOUNT KIND:ID}: owner, policy, annotations and permissions of one resource. */
@Service
@Command(scope = "coffer", name = "resource-show", description = "Show a resource: owner, annotations, permissions")
public class ResourceShowCommand implements Action {
    @Reference
    private Database db;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    @Completion(ResourceIdCompleter.class)
    String account;

    @Argument(index = 1, name = "resource", required = true, description = "kind:id, e.g. variable:db/password")
    @Completion(ResourceIdCompleter.class)
    String resource;

    @Override
    public Object execute() throws SQLException {
        String id = RoleShowCommand.fullId(account, resource);
        try (Connection c = db.dataSource().getConnection()) {
            ShellTable t = new ShellTable();
            t.column("Field");
            t.column("Value");
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT owner_id, coalesce(policy_id, ''), created_at FROM resources WHERE resource_id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalArgumentException("no resource " + id);
                    }
                    t.addRow().addContent("id", id);
                    t.addRow().addContent("owner", rs.getString(1));
                    t.addRow().addContent("policy", rs.getString(2));
                    t.addRow().addContent("created_at", rs.getTimestamp(3).toInstant().toString());
                }
            }
            RoleShowCommand.rows(c, "SELECT 'annotation ' || name, value FROM annotations WHERE resource_id = ? "
                    + "ORDER BY name", id, t);
            RoleShowCommand.rows(c, "SELECT 'permission ' || privilege, role_id FROM permissions WHERE resource_id = ? "
                    + "ORDER BY privilege, role_id", id, t);
            RoleShowCommand.rows(c, "SELECT 'secret version ' || version, coalesce(expires_at::text, 'no expiry') "
                    + "FROM secrets WHERE resource_id = ? ORDER BY version", id, t);
            t.print(System.out);
        }
        return null;
    }
}
