package io.coffer.authn.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

import io.coffer.api.crypto.Sealer;
import io.coffer.api.store.Database;

/**
 * Accounts' signing keys, read from the (replicated) database once and kept in memory: verifying a token never
 * touches the database after the first use of a key. Keys are never deleted while the account exists.
 */
final class SigningKeys {
    static final class Key {
        final String account;
        final String kid;
        final Ed25519PublicKeyParameters publicKey;
        private final byte[] sealedPrivate;
        private volatile Ed25519PrivateKeyParameters privateKey;

        Key(String account, String kid, Ed25519PublicKeyParameters publicKey, byte[] sealedPrivate) {
            this.account = account;
            this.kid = kid;
            this.publicKey = publicKey;
            this.sealedPrivate = sealedPrivate;
        }

        /** Opened on first issue only: a node that only verifies never holds the private key in memory. */
        Ed25519PrivateKeyParameters privateKey(Sealer sealer) {
            Ed25519PrivateKeyParameters k = privateKey;
            if (k == null) {
                byte[] raw = sealer.open(sealedPrivate, "authn:" + account);
                k = new Ed25519PrivateKeyParameters(raw, 0);
                java.util.Arrays.fill(raw, (byte) 0);
                privateKey = k;
            }
            return k;
        }
    }

    private final Database db;
    private final Map<String, Key> byAccount = new ConcurrentHashMap<>();
    private final Map<String, Key> byKid = new ConcurrentHashMap<>();

    SigningKeys(Database db) {
        this.db = db;
    }

    Optional<Key> forAccount(String account) {
        Key k = byAccount.get(account);
        return k != null ? Optional.of(k) : load("account", account);
    }

    Optional<Key> forKid(String kid) {
        Key k = byKid.get(kid);
        return k != null ? Optional.of(k) : load("kid", kid);
    }

    private Optional<Key> load(String column, String value) {
        if (value == null || value.length() > 128) {
            return Optional.empty();
        }
        String sql = "SELECT account, kid, public_key, private_key FROM signing_keys WHERE " + column + " = ?"
                + " AND algorithm = 'Ed25519'";
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Key k = new Key(rs.getString(1), rs.getString(2), Ed25519Keys.fromDer(rs.getBytes(3)), rs.getBytes(4));
                byAccount.put(k.account, k);
                byKid.put(k.kid, k);
                return Optional.of(k);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("signing keys unavailable: " + e.getMessage(), e);
        }
    }
}
