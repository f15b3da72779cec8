package io.coffer.policy.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.coffer.api.authn.Credentials;

/**
 * Writes a resolved policy in one transaction (conjur-api §3.4). Modes: {@code POST} adds rows and never updates or
 * deletes; {@code PATCH} also updates owners and annotations of rows this policy owns and applies deletions. Rows that
 * exist under another policy are left alone (shadowing). A concurrent load gets a conflict, not a wait.
 */
final class PolicyLoader {
    /** Outcome of a load: the new users/hosts with their API keys, and the policy's new version. */
    static final class Result {
        final Map<String, String> createdRoles = new LinkedHashMap<>();
        int version;
    }

    /** Another load holds the lock: 409 {@code policy_conflict}. */
    static final class Conflict extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    static final int VERSIONS_KEPT = 20;
    private static final long LOCK_KEY = 0x436f66666572L; // "Coffer": one load at a time per cluster

    private final Credentials credentials;
    private final io.coffer.api.crypto.Sealer sealer;
    private final io.coffer.api.store.ChangeLog changes;

    PolicyLoader(Credentials credentials, io.coffer.api.crypto.Sealer sealer, io.coffer.api.store.ChangeLog changes) {
        this.credentials = credentials;
        this.sealer = sealer;
        this.changes = changes;
    }

    Result load(Connection c, String mode, String account, String policyId, Resolved r, String actor, String clientIp,
            String text) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
            lock.setLong(1, LOCK_KEY);
            try (ResultSet rs = lock.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new Conflict();
                }
            }
        }
        checkReferences(c, account, r);
        Result result = new Result();
        boolean patch = mode.equals("PATCH");
        if (patch) {
            delete(c, r, policyId);
        }
        for (Resolved.Record rec : r.records.values()) {
            if (rec.role && insertRole(c, rec, policyId) && (rec.kind.equals("user") || rec.kind.equals("host"))) {
                cidrs(rec.restrictedTo);
                result.createdRoles.put(rec.id, credentials.issue(c, rec.id, rec.restrictedTo));
            } else if (rec.role && patch && (rec.kind.equals("user") || rec.kind.equals("host"))) {
                exec(c, "UPDATE credentials SET restricted_to = ?::cidr[], updated_at = now() WHERE role_id = ?",
                        cidrs(rec.restrictedTo), rec.id);
            }
        }
        for (Resolved.Record rec : r.records.values()) {
            if (rec.resource) {
                boolean inserted = exec(c, "INSERT INTO resources(resource_id, account, kind, identifier, owner_id, "
                        + "policy_id) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING", rec.id, account, rec.kind,
                        rec.identifier, rec.owner, policyId) == 1;
                if (!inserted && patch) {
                    exec(c, "UPDATE resources SET owner_id = ? WHERE resource_id = ? AND policy_id = ?", rec.owner,
                            rec.id, policyId);
                }
                if (rec.role) {
                    exec(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                            + "VALUES (?,?,true,true,?) ON CONFLICT DO NOTHING", rec.id, rec.owner, policyId);
                }
                for (Map.Entry<String, String> a : rec.annotations.entrySet()) {
                    exec(c, "INSERT INTO annotations(resource_id, name, value, policy_id) VALUES (?,?,?,?) "
                            + (patch ? "ON CONFLICT (resource_id, name) DO UPDATE SET value = EXCLUDED.value "
                                    + "WHERE annotations.policy_id = EXCLUDED.policy_id" : "ON CONFLICT DO NOTHING"),
                            rec.id, a.getKey(), a.getValue(), policyId);
                }
            }
            if (rec.value != null) {
                storeValue(c, rec.id, rec.value);
            }
            for (String layer : rec.layers) {
                exec(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                        + "VALUES (?,?,false,false,?) ON CONFLICT DO NOTHING", layer, rec.id, policyId);
            }
        }
        for (Resolved.Grant g : r.grants) {
            exec(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership, policy_id) "
                    + "VALUES (?,?,?,false,?) ON CONFLICT (role_id, member_id, ownership) DO "
                    + (patch ? "UPDATE SET admin_option = EXCLUDED.admin_option WHERE role_memberships.policy_id = "
                            + "EXCLUDED.policy_id" : "NOTHING"), g.role, g.member, g.admin, policyId);
        }
        for (Resolved.Permit p : r.permits) {
            exec(c, "INSERT INTO permissions(privilege, resource_id, role_id, policy_id) VALUES (?,?,?,?) "
                    + "ON CONFLICT DO NOTHING", p.privilege, p.resource, p.role, policyId);
        }
        result.version = recordVersion(c, policyId, actor, clientIp, text);
        changes.append(c, account, "policy-load", policyId);
        return result;
    }

    /** A public key's text becomes the resource's next secret version, in this transaction, unless unchanged. */
    private void storeValue(Connection c, String resourceId, String value) throws SQLException {
        int latest = 0;
        byte[] current = null;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT version, value FROM secrets WHERE resource_id = ? ORDER BY version DESC LIMIT 1")) {
            ps.setString(1, resourceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    latest = rs.getInt(1);
                    current = sealer.open(rs.getBytes(2), io.coffer.api.secrets.SecretWriter.context(resourceId, latest));
                }
            }
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (current != null && MessageDigest.isEqual(current, bytes)) {
            return;
        }
        exec(c, "INSERT INTO secrets(resource_id, version, value) VALUES (?,?,?)", resourceId, latest + 1,
                sealer.seal(bytes, io.coffer.api.secrets.SecretWriter.context(resourceId, latest + 1)));
    }

    private static boolean insertRole(Connection c, Resolved.Record rec, String policyId) throws SQLException {
        return exec(c, "INSERT INTO roles(role_id, account, kind, identifier, policy_id) VALUES (?,?,?,?,?) "
                + "ON CONFLICT DO NOTHING", rec.id, rec.id.substring(0, rec.id.indexOf(':')), rec.kind,
                rec.identifier, policyId) == 1;
    }

    /** {@code !delete} (recursive by ownership through the foreign keys), {@code !revoke}/{@code !deny} of this branch. */
    private static void delete(Connection c, Resolved r, String policyId) throws SQLException {
        for (Resolved.Grant g : r.revokes) {
            exec(c, "DELETE FROM role_memberships WHERE role_id = ? AND member_id = ? AND ownership = false "
                    + "AND policy_id = ?", g.role, g.member, policyId);
        }
        for (Resolved.Permit p : r.denies) {
            exec(c, "DELETE FROM permissions WHERE privilege = ? AND resource_id = ? AND role_id = ? AND policy_id = ?",
                    p.privilege, p.resource, p.role, policyId);
        }
        for (String id : r.deletes) {
            // Everything the record owns goes with it, recursively (owned roles cascade their resources).
            exec(c, "WITH RECURSIVE owned(id) AS (SELECT ?::text UNION SELECT r.resource_id FROM resources r "
                    + "JOIN owned o ON r.owner_id = o.id) DELETE FROM resources WHERE resource_id IN (SELECT id FROM owned)",
                    id);
            exec(c, "WITH RECURSIVE owned(id) AS (SELECT ?::text UNION SELECT r.resource_id FROM resources r "
                    + "JOIN owned o ON r.owner_id = o.id) DELETE FROM roles WHERE role_id IN (SELECT id FROM owned)", id);
            exec(c, "DELETE FROM roles WHERE role_id = ?", id);
        }
    }

    /** Every referenced role/resource not declared here must exist: else 422 "Kind 'id' not found in account". */
    private static void checkReferences(Connection c, String account, Resolved r) throws SQLException {
        Set<String> checked = new HashSet<>();
        for (Resolved.Reference ref : r.references) {
            if (r.records.containsKey(ref.id) || !checked.add(ref.id + ref.role)) {
                continue;
            }
            String sql = ref.role ? "SELECT 1 FROM roles WHERE role_id = ?" : "SELECT 1 FROM resources WHERE resource_id = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, ref.id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        String[] p = ref.id.split(":", 3);
                        String kind = p[1].substring(0, 1).toUpperCase() + p[1].substring(1);
                        throw new PolicyException(kind + " '" + p[2] + "' not found in account '" + account + "'",
                                ref.line, ref.column);
                    }
                }
            }
        }
    }

    private static int recordVersion(Connection c, String policyId, String actor, String clientIp, String text)
            throws SQLException {
        int version;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM policy_versions WHERE resource_id = ?")) {
            ps.setString(1, policyId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                version = rs.getInt(1);
            }
        }
        exec(c, "INSERT INTO policy_versions(resource_id, version, role_id, client_ip, policy_text, policy_sha256, "
                + "finished_at) VALUES (?,?,?,?,?,?, now())", policyId, version, actor, clientIp, text, sha256(text));
        exec(c, "DELETE FROM policy_versions WHERE resource_id = ? AND version <= ?", policyId, version - VERSIONS_KEPT);
        return version;
    }

    private static String cidrs(List<String> list) {
        for (String cidr : list) {
            if (!cidr.matches("[0-9a-fA-F:.]+(/[0-9]{1,3})?")) {
                throw new PolicyException("invalid restricted_to '" + cidr + "'", 0, 0);
            }
        }
        return "{" + String.join(",", list) + "}";
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }
}
