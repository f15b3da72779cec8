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

/** {@code coffer:role-show ACCOUNT KIND:ID}: a role's members and the roles it is a member of. */
@Service
@Command(scope = "coffer", name = "role-show", description = "Show a role: its members and memberships")
public class RoleShowCommand implements Action {
    @Reference
    private Database db;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    @Completion(ResourceIdCompleter.class)
    String account;

    @Argument(index = 1, name = "role", required = true, description = "kind:id, e.g. group:devs or user:alice")
    @Completion(ResourceIdCompleter.class)
    String role;

    @Override
    public Object execute() throws SQLException {
        String id = fullId(account, role);
        try (Connection c = db.dataSource().getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM roles WHERE role_id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalArgumentException("no role " + id);
                    }
                }
            }
            ShellTable t = new ShellTable();
            t.column("Relation");
            t.column("Role");
            rows(c, "SELECT CASE WHEN ownership THEN 'owned by' WHEN admin_option THEN 'member (admin)' ELSE 'member' "
                    + "END, member_id FROM role_memberships WHERE role_id = ? ORDER BY 1, 2", id, t);
            rows(c, "SELECT CASE WHEN ownership THEN 'owns' ELSE 'member of' END, role_id FROM role_memberships "
                    + "WHERE member_id = ? ORDER BY 1, 2", id, t);
            t.print(System.out);
        }
        return null;
    }

    /** {@code kind:id} (or a full id) in the account → the full id. */
    static String fullId(String account, String kindAndId) {
        return kindAndId.startsWith(account + ":") && kindAndId.split(":", -1).length >= 3 ? kindAndId
                : account + ":" + kindAndId;
    }

    static void rows(Connection c, String sql, String id, ShellTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    t.addRow().addContent(rs.getString(1), rs.getString(2));
                }
            }
        }
    }
}
