package io.coffer.accounts.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.authn.Accounts;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/**
 * Creates accounts in one transaction with their change-log row: the Ed25519 signing key (private half sealed with
 * context {@code authn:<account>}), the {@code admin} user with its API key (sealed with the role id), and the root
 * policy owned by admin.
 */
@Component(service = Accounts.class)
public class AccountManager implements Accounts {
    private static final Logger LOG = LoggerFactory.getLogger(AccountManager.class);
    static final String ID = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}";

    private final Database db;
    private final Sealer sealer;
    private final ChangeLog changes;

    @Activate
    public AccountManager(@Reference Database db, @Reference Sealer sealer, @Reference ChangeLog changes) {
        this.db = db;
        this.sealer = sealer;
        this.changes = changes;
    }

    @Override
    public String create(String id) {
        if (id == null || !id.matches(ID)) {
            throw new IllegalArgumentException("account id must be 1-64 letters, digits, '_', '.' or '-', "
                    + "starting with a letter or digit");
        }
        Ed25519PrivateKeyParameters priv = new Ed25519PrivateKeyParameters(new SecureRandom());
        byte[] raw = priv.getEncoded();
        byte[] publicDer;
        try {
            publicDer = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(priv.generatePublicKey()).getEncoded();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] sealedPrivate = sealer.seal(raw, "authn:" + id);
        java.util.Arrays.fill(raw, (byte) 0);
        String admin = id + ":user:admin";
        String apiKey = ApiKeys.generate();
        byte[] sealedKey = sealer.seal(apiKey.getBytes(StandardCharsets.US_ASCII), admin);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO accounts(id) VALUES (?) ON CONFLICT DO NOTHING")) {
                    ps.setString(1, id);
                    if (ps.executeUpdate() == 0) {
                        throw new IllegalStateException("account '" + id + "' already exists");
                    }
                }
                update(c, "INSERT INTO signing_keys(account, algorithm, private_key, public_key, kid) VALUES (?,?,?,?,?)",
                        id, "Ed25519", sealedPrivate, publicDer, kid(publicDer));
                update(c, "INSERT INTO roles(role_id, account, kind, identifier) VALUES (?,?,'user','admin')", admin, id);
                update(c, "INSERT INTO resources(resource_id, account, kind, identifier, owner_id) VALUES (?,?,'user','admin',?)",
                        admin, id, admin);
                String root = id + ":policy:root";
                update(c, "INSERT INTO roles(role_id, account, kind, identifier) VALUES (?,?,'policy','root')", root, id);
                update(c, "INSERT INTO resources(resource_id, account, kind, identifier, owner_id) VALUES (?,?,'policy','root',?)",
                        root, id, admin);
                update(c, "INSERT INTO role_memberships(role_id, member_id, admin_option, ownership) VALUES (?,?,true,true)",
                        root, admin);
                update(c, "INSERT INTO credentials(role_id, api_key) VALUES (?,?)", admin, sealedKey);
                changes.append(c, id, "account-create", id);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("account '" + id + "' could not be created: " + e.getMessage(), e);
        }
        LOG.info("created account {}", id);
        return apiKey;
    }

    /** @return a new API key in Conjur's format */
    public static String newApiKey() {
        return ApiKeys.generate();
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    static String kid(byte[] publicDer) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(publicDer));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean delete(String id) {
        if (id == null || !id.matches(ID)) {
            return false;
        }
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM accounts WHERE id = ?")) {
                ps.setString(1, id);
                boolean existed = ps.executeUpdate() == 1;
                if (existed) {
                    changes.append(c, id, "account-delete", id);
                }
                c.commit();
                if (existed) {
                    LOG.info("deleted account {}", id);
                }
                return existed;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("account '" + id + "' could not be deleted: " + e.getSQLState(), e);
        }
    }

    @Override
    public List<String> list() {
        List<String> out = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT id FROM accounts ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("accounts unavailable: " + e.getMessage(), e);
        }
        return out;
    }
}
