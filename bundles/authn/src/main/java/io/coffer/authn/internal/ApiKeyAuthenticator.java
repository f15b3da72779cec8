package io.coffer.authn.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Authenticator;
import io.coffer.api.authn.Logins;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.store.Database;

/**
 * The built-in {@code authn} authenticator: API key → access token, and Basic login → API key. Every failure is the
 * same 401 with no detail; an unknown role costs the same comparison as a known one, so timing doesn't reveal which
 * roles exist.
 */
@Component(service = {Authenticator.class, ApiKeyAuthenticator.class})
public class ApiKeyAuthenticator implements Authenticator {
    private static final byte[] DUMMY = new byte[56];

    private final Database db;
    private final Sealer sealer;
    private final AccessTokens tokens;

    @Activate
    public ApiKeyAuthenticator(@Reference Database db, @Reference Sealer sealer, @Reference AccessTokens tokens) {
        this.db = db;
        this.sealer = sealer;
        this.tokens = tokens;
    }

    @Override
    public String name() {
        return "authn";
    }

    /** A role's stored credentials, opened. */
    private static final class Stored {
        byte[] apiKey;
        byte[] passwordHash;
        Instant expiration;
        String[] restrictedTo = new String[0];
    }

    @Override
    public byte[] authenticate(String account, String login, byte[] credential, String clientIp) {
        String roleId = roleId(account, login);
        Stored s = load(roleId);
        boolean ok = MessageDigest.isEqual(s != null && s.apiKey != null ? s.apiKey : DUMMY, trim(credential));
        if (!ok || s == null || s.apiKey == null || expired(s) || !originAllowed(s, clientIp)) {
            throw new AuthnException(401, "");
        }
        return tokens.issue(account, login.startsWith("user/") ? login.substring(5) : login);
    }

    /**
     * Basic login: the password, or the API key itself, gives the API key (Conjur checks "API key OR password").
     *
     * @return the API key
     */
    public byte[] login(String account, String login, char[] password) {
        Stored s = load(roleId(account, login));
        byte[] given = new String(password).getBytes(StandardCharsets.UTF_8);
        try {
            boolean keyMatch = MessageDigest.isEqual(s != null && s.apiKey != null ? s.apiKey : DUMMY, given);
            boolean pwMatch = false;
            if (!keyMatch && s != null && s.passwordHash != null) {
                pwMatch = OpenBSDBCrypt.checkPassword(new String(s.passwordHash, StandardCharsets.US_ASCII), password);
            }
            if (s == null || s.apiKey == null || !(keyMatch || pwMatch) || expired(s)) {
                throw new AuthnException(401, "");
            }
            return s.apiKey.clone();
        } finally {
            Arrays.fill(given, (byte) 0);
        }
    }

    static String roleId(String account, String login) {
        if (account == null || login == null || login.isEmpty() || login.length() > 512) {
            throw new AuthnException(401, "");
        }
        return account + ":" + Logins.roleIdTail(login);
    }

    private Stored load(String roleId) {
        String sql = "SELECT api_key, password_hash, expiration, restricted_to::text[] FROM credentials WHERE role_id = ?";
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, roleId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Stored s = new Stored();
                byte[] k = rs.getBytes(1);
                s.apiKey = k == null ? null : sealer.open(k, roleId);
                byte[] h = rs.getBytes(2);
                s.passwordHash = h == null ? null : sealer.open(h, roleId);
                Timestamp exp = rs.getTimestamp(3);
                s.expiration = exp == null ? null : exp.toInstant();
                Array cidrs = rs.getArray(4);
                if (cidrs != null) {
                    s.restrictedTo = (String[]) cidrs.getArray();
                }
                return s;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("credentials unavailable: " + e.getMessage(), e);
        }
    }

    private static boolean expired(Stored s) {
        return s.expiration != null && !s.expiration.isAfter(Instant.now());
    }

    private static boolean originAllowed(Stored s, String clientIp) {
        if (s.restrictedTo.length == 0) {
            return true;
        }
        for (String cidr : s.restrictedTo) {
            if (Cidr.contains(cidr, clientIp)) {
                return true;
            }
        }
        return false;
    }

    /** Clients may send the key with a trailing newline (e.g. {@code --data @file}). */
    private static byte[] trim(byte[] b) {
        int end = b.length;
        while (end > 0 && (b[end - 1] == '\n' || b[end - 1] == '\r' || b[end - 1] == ' ')) {
            end--;
        }
        return end == b.length ? b : Arrays.copyOf(b, end);
    }
}
