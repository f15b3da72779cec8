package io.coffer.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.rbac.Access;
import io.coffer.api.rbac.Permissions;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * Conjur's permission check on the write path (conjur-api §4), in one query: a role's transitive memberships, then
 * ownership or a permission row. Visible = owner or any privilege; invisible answers 404, visible without the
 * privilege 403. One query per check; the in-memory graph of the read path (architecture §4) replaces it for
 * warm reads.
 */
@Component(service = Permissions.class)
public class DbPermissions implements Permissions {

    private static final String SQL = "WITH RECURSIVE all_roles(role_id) AS ("
            + " SELECT ?::text UNION SELECT m.role_id FROM role_memberships m JOIN all_roles a ON m.member_id = a.role_id)"
            + " SELECT r.owner_id IN (SELECT role_id FROM all_roles) AS owns,"
            + " EXISTS (SELECT 1 FROM permissions p WHERE p.resource_id = r.resource_id AND p.privilege = ?"
            + "         AND p.role_id IN (SELECT role_id FROM all_roles)) AS granted,"
            + " EXISTS (SELECT 1 FROM permissions p WHERE p.resource_id = r.resource_id"
            + "         AND p.role_id IN (SELECT role_id FROM all_roles)) AS any_privilege"
            + " FROM resources r WHERE r.resource_id = ?";

    static final int CACHE_LIMIT = 100_000;

    private final Database db;
    private final Changes changes;
    private final java.util.Map<String, Access> cache = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long cacheGeneration = -1;

    @Activate
    public DbPermissions(@Reference Database db, @Reference Changes changes) {
        this.db = db;
        this.changes = changes;
    }

    /** Warm checks are answered from memory; a check computed while the data changed is not kept. */
    @Override
    public Access check(String roleId, String resourceId, String privilege) {
        long gen = changes.generation();
        if (gen != cacheGeneration) {
            cache.clear();
            cacheGeneration = gen;
        }
        String key = roleId + "\n" + resourceId + "\n" + privilege;
        Access cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        Access a = query(roleId, resourceId, privilege);
        if (changes.generation() == gen && cacheGeneration == gen) {
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(key, a);
        }
        return a;
    }

    private Access query(String roleId, String resourceId, String privilege) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(SQL)) {
            ps.setString(1, roleId);
            ps.setString(2, privilege);
            ps.setString(3, resourceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Access.INVISIBLE;
                }
                if (rs.getBoolean(1) || rs.getBoolean(2)) {
                    return Access.ALLOWED;
                }
                return rs.getBoolean(3) ? Access.VISIBLE : Access.INVISIBLE;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("permission check failed: " + e.getMessage(), e);
        }
    }
}
