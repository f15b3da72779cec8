package io.coffer.policy.internal;

import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.crypto.Sealer;
import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/**
 * Appends secret versions on the Leader: sealed with context {@code resource#version}, the newest 20 kept, an
 * identical value is no new version; the change-log row commits with it. Writes to one variable are serialised by a
 * row lock on its resource, so two writers never take the same version number.
 */
@Component(service = SecretWriter.class)
public class SecretStore implements SecretWriter {
    static final int VERSIONS_KEPT = 20;

    private final Database db;
    private final Sealer sealer;
    private final ChangeLog changes;

    @Activate
    public SecretStore(@Reference Database db, @Reference Sealer sealer, @Reference ChangeLog changes) {
        this.db = db;
        this.sealer = sealer;
        this.changes = changes;
    }

    private static String account(String resourceId) {
        return resourceId.substring(0, resourceId.indexOf(':'));
    }

    @Override
    public void expire(String resourceId) {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("UPDATE secrets SET expires_at = NULL WHERE resource_id = ?")) {
                ps.setString(1, resourceId);
                ps.executeUpdate();
                changes.append(c, account(resourceId), "secret-expire", resourceId);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("expiry could not be cleared: " + e.getSQLState(), e);
        }
    }

    @Override
    public int append(String resourceId, byte[] value) {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement lock = c.prepareStatement(
                        "SELECT 1 FROM resources WHERE resource_id = ? FOR UPDATE")) {
                    lock.setString(1, resourceId);
                    try (ResultSet rs = lock.executeQuery()) {
                        if (!rs.next()) {
                            throw new IllegalStateException("no such resource");
                        }
                    }
                }
                int latest = 0;
                byte[] sealed = null;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT version, value FROM secrets WHERE resource_id = ? ORDER BY version DESC LIMIT 1")) {
                    ps.setString(1, resourceId);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            latest = rs.getInt(1);
                            sealed = rs.getBytes(2);
                        }
                    }
                }
                if (sealed != null) {
                    byte[] current = sealer.open(sealed, SecretWriter.context(resourceId, latest));
                    boolean same = MessageDigest.isEqual(current, value);
                    java.util.Arrays.fill(current, (byte) 0);
                    if (same) {
                        c.rollback();
                        return latest;
                    }
                }
                int version = latest + 1;
                try (PreparedStatement ins = c.prepareStatement(
                        "INSERT INTO secrets(resource_id, version, value) VALUES (?,?,?)");
                        PreparedStatement prune = c.prepareStatement(
                                "DELETE FROM secrets WHERE resource_id = ? AND version <= ?")) {
                    ins.setString(1, resourceId);
                    ins.setInt(2, version);
                    ins.setBytes(3, sealer.seal(value, SecretWriter.context(resourceId, version)));
                    ins.executeUpdate();
                    prune.setString(1, resourceId);
                    prune.setInt(2, version - VERSIONS_KEPT);
                    prune.executeUpdate();
                    changes.append(c, account(resourceId), "secret-set", resourceId);
                }
                c.commit();
                return version;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("secret could not be stored: " + e.getSQLState(), e);
        }
    }
}
