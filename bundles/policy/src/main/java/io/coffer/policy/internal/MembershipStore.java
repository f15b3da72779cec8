package io.coffer.policy.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.rbac.Memberships;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/**
 * Grants made outside policy loads ({@code /roles/...?members&member=}), stamped with the granted role's policy so a
 * later {@code PUT} of that policy treats them like its own. The change-log row commits with the grant.
 */
@Component(service = Memberships.class)
public class MembershipStore implements Memberships {
    private final Database db;
    private final ChangeLog changes;

    @Activate
    public MembershipStore(@Reference Database db, @Reference ChangeLog changes) {
        this.db = db;
        this.changes = changes;
    }

    @Override
    public boolean grant(String roleId, String memberId, Runnable beforeCommit) {
        if (roleId.equals(memberId)) {
            throw new IllegalArgumentException("a role can't be its own member");
        }
        return write(roleId, memberId, beforeCommit, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                + "SELECT role_id, ?, false, false, policy_id FROM roles WHERE role_id = ? ON CONFLICT DO NOTHING",
                "role-grant");
    }

    @Override
    public boolean revoke(String roleId, String memberId, Runnable beforeCommit) {
        return write(roleId, memberId, beforeCommit, "DELETE FROM role_memberships WHERE member_id = ? AND role_id = ? AND NOT ownership",
                "role-revoke");
    }

    private boolean write(String roleId, String memberId, Runnable beforeCommit, String sql, String kind) {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!exists(c, roleId) || !exists(c, memberId)) {
                    throw new IllegalArgumentException("no such role");
                }
                int changed;
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, memberId);
                    ps.setString(2, roleId);
                    changed = ps.executeUpdate();
                }
                if (changed == 0) {
                    c.rollback();
                    return false;
                }
                beforeCommit.run();
                changes.append(c, roleId.substring(0, roleId.indexOf(':')), kind, roleId);
                c.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("membership not changed: " + e.getSQLState(), e);
        }
    }

    private static boolean exists(Connection c, String roleId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM roles WHERE role_id = ? FOR SHARE")) {
            ps.setString(1, roleId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
