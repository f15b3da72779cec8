package io.coffer.policy.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * PUT ("replace"): after loading, rows stamped with this policy that the new text no longer declares are deleted;
 * deleting a resource cascades to what it owns and to its secrets (conjur-api §3.4).
 */
final class PolicyReplace {
    private PolicyReplace() {
    }

    static void removeMissing(Connection c, String policyId, Resolved r) throws SQLException {
        List<String> records = new ArrayList<>(r.records.keySet());
        List<String> grants = new ArrayList<>();
        r.grants.forEach(g -> grants.add(g.role + "\n" + g.member));
        r.records.values().forEach(rec -> rec.layers.forEach(l -> grants.add(l + "\n" + rec.id)));
        List<String> permits = new ArrayList<>();
        r.permits.forEach(p -> permits.add(p.privilege + "\n" + p.resource + "\n" + p.role));
        List<String> annotations = new ArrayList<>();
        r.records.values().forEach(rec -> rec.annotations.keySet().forEach(k -> annotations.add(rec.id + "\n" + k)));

        exec(c, "DELETE FROM permissions WHERE policy_id = ? AND NOT (privilege || E'\\n' || resource_id || E'\\n' "
                + "|| role_id = ANY (?))", policyId, permits);
        exec(c, "DELETE FROM role_memberships WHERE policy_id = ? AND ownership = false AND NOT (role_id || E'\\n' "
                + "|| member_id = ANY (?))", policyId, grants);
        exec(c, "DELETE FROM annotations WHERE policy_id = ? AND NOT (resource_id || E'\\n' || name = ANY (?))",
                policyId, annotations);
        exec(c, "DELETE FROM resources WHERE policy_id = ? AND NOT (resource_id = ANY (?))", policyId, records);
        exec(c, "DELETE FROM roles WHERE policy_id = ? AND NOT (role_id = ANY (?))", policyId, records);
    }

    private static void exec(Connection c, String sql, String policyId, List<String> keys) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            Array a = c.createArrayOf("text", keys.toArray());
            ps.setString(1, policyId);
            ps.setArray(2, a);
            ps.executeUpdate();
        }
    }
}
