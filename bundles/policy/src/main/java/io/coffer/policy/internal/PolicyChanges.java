package io.coffer.policy.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import io.coffer.api.audit.AuditEvent;

/**
 * The rows a policy load changed, cascades included, as the triggers of migration V8 record them in the session's
 * temporary {@code policy_changes} while the load's transaction has {@code coffer.policy_log} on; each becomes one
 * {@code policy} audit event (conjur-api §6) recorded before the load commits.
 */
final class PolicyChanges {
    /**
     * One changed row: its table, {@code INSERT}/{@code UPDATE}/{@code DELETE}, and the columns that name it (as
     * it is after the change, or was before a delete); columns the table doesn't have are {@code null}.
     */
    record Change(String table, String op, String roleId, String resourceId, String memberId, String privilege,
            String name, boolean ownership) {
    }

    private PolicyChanges() {
    }

    /**
     * Turns the change log on for the rest of this transaction. The table lives only as long as the transaction: a
     * session that kept one would drop it when the connection closes, in a commit of its own that waits for the
     * synchronous Standby, and a replaced Leader's backend would then hang at exit.
     */
    static void begin(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE IF NOT EXISTS policy_changes (n BIGSERIAL, tbl TEXT NOT NULL, "
                    + "op TEXT NOT NULL, role_id TEXT, resource_id TEXT, member_id TEXT, privilege TEXT, name TEXT, "
                    + "ownership BOOLEAN) ON COMMIT DROP");
            s.execute("SET LOCAL coffer.policy_log = 'on'");
        }
    }

    /** @return the changes so far, in the order they happened; the log is left empty */
    static List<Change> take(Connection c) throws SQLException {
        List<Change> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("WITH taken AS (DELETE FROM "
                + "pg_temp.policy_changes RETURNING *) SELECT tbl, op, role_id, resource_id, member_id, privilege, "
                + "name, ownership FROM taken ORDER BY n")) {
            while (rs.next()) {
                out.add(new Change(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getBoolean(8)));
            }
        }
        return out;
    }

    /**
     * @return one {@code policy} event per change, in Conjur's words ({@code <user> added resource <id>},
     *     {@code ... added permission of <role> to <privilege> on <resource>}, ...), or none for rows it doesn't name
     */
    static List<AuditEvent> events(List<Change> changes, String user, String policyId, int version, String requestId,
            String clientIp) {
        List<AuditEvent> out = new ArrayList<>(changes.size());
        for (Change ch : changes) {
            String operation = ch.op().equals("INSERT") ? "add" : ch.op().equals("DELETE") ? "remove" : "change";
            String verb = operation.equals("add") ? "added" : operation.equals("remove") ? "removed" : "changed";
            AuditEvent.Builder b = AuditEvent.builder("policy", operation, true).requestId(requestId)
                    .clientIp(clientIp).user(user);
            String what;
            switch (ch.table()) {
                case "roles":
                    b.subject("role", ch.roleId());
                    what = "role " + ch.roleId();
                    break;
                case "resources":
                    b.subject("resource", ch.resourceId());
                    what = "resource " + ch.resourceId();
                    break;
                case "role_memberships":
                    b.subject("role", ch.roleId()).subject(ch.ownership() ? "owner" : "member", ch.memberId());
                    what = (ch.ownership() ? "ownership of " : "membership of ") + ch.memberId() + " in " + ch.roleId();
                    break;
                case "permissions":
                    b.subject("resource", ch.resourceId()).subject("role", ch.roleId())
                            .subject("privilege", ch.privilege());
                    what = "permission of " + ch.roleId() + " to " + ch.privilege() + " on " + ch.resourceId();
                    break;
                case "annotations":
                    b.subject("annotation", ch.name()).subject("resource", ch.resourceId());
                    what = "annotation " + ch.name() + " on " + ch.resourceId();
                    break;
                default:
                    continue;
            }
            out.add(b.policy(policyId, Integer.toString(version)).message(user + " " + verb + " " + what).build());
        }
        return out;
    }
}
