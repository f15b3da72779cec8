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
 * touches the database after the first use of a key. When the database changes, the whole set is re-read in the
 * background ({@link #refresh()}), so a deleted (or re-created) account's old key stops verifying on every node
 * without a request ever waiting on the database.
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
    private final java.util.Set<String> unknownKids = ConcurrentHashMap.newKeySet();

    SigningKeys(Database db) {
        this.db = db;
    }

    /**
     * Re-reads every signing key and drops those gone from the database. Runs off the request path; a database
     * that doesn't answer leaves the known keys in place.
     */
    void refresh() {
        Map<String, Key> fresh = new ConcurrentHashMap<>();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT account, kid, public_key, private_key FROM signing_keys WHERE algorithm = 'Ed25519'")) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Key known = byKid.get(rs.getString(2));
                    Key k = known != null && known.account.equals(rs.getString(1)) ? known
                            : new Key(rs.getString(1), rs.getString(2), Ed25519Keys.fromDer(rs.getBytes(3)),
                                    rs.getBytes(4));
                    fresh.put(k.kid, k);
                }
            }
        } catch (SQLException e) {
            return;
        }
        fresh.values().forEach(k -> {
            byKid.put(k.kid, k);
            byAccount.put(k.account, k);
        });
        byKid.keySet().retainAll(fresh.keySet());
        unknownKids.clear();
        byAccount.values().removeIf(k -> !fresh.containsKey(k.kid));
    }

    /** @return whether {@code kid} is the account's signing key as last known, without touching the database */
    boolean isCurrent(String account, String kid) {
        Key k = byAccount.get(account);
        return k != null && k.kid.equals(kid);
    }

    Optional<Key> forAccount(String account) {
        Key k = byAccount.get(account);
        return k != null ? Optional.of(k) : load("account", account);
    }

    /** Unknown kids are remembered until the next refresh, so forged tokens can't make each request a query. */
    Optional<Key> forKid(String kid) {
        Key k = byKid.get(kid);
        if (k != null) {
            return Optional.of(k);
        }
        if (kid == null || !kid.matches("[0-9a-f]{64}") || unknownKids.contains(kid)) {
            return Optional.empty();
        }
        Optional<Key> loaded = load("kid", kid);
        if (loaded.isEmpty() && unknownKids.size() < 10_000) {
            unknownKids.add(kid);
        }
        return loaded;
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
