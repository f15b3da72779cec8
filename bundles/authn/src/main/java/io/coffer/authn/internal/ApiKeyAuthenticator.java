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

import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.authn.AccessTokens;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Authenticator;
import io.coffer.api.authn.BasicAuth;
import io.coffer.api.authn.Logins;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.net.Cidr;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * The built-in {@code authn} authenticator: API key → access token, and Basic login → API key. Every failure is the
 * same 401 with no detail; an unknown role costs the same comparison as a known one, so timing doesn't reveal which
 * roles exist. Failed attempts are throttled per role and per client address (429 before any credential is
 * checked), and bcrypt runs on a small bounded pool, so a burst of bad logins can't take the node's CPU.
 */
@Component(service = {Authenticator.class, ApiKeyAuthenticator.class, BasicAuth.class},
        configurationPid = ApiKeyAuthenticator.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ApiKeyAuthenticator.Config.class)
public class ApiKeyAuthenticator implements Authenticator, BasicAuth {
    public static final String PID = "io.coffer.authn";
    private static final byte[] DUMMY = new byte[56];

    @ObjectClassDefinition(name = "Coffer authn", description = "The API-key authenticator")
    public @interface Config {
        @AttributeDefinition(description = "Failed attempts allowed per role per window")
        int role_failures() default 10;

        @AttributeDefinition(description = "Failed attempts allowed per client address per window")
        int client_failures() default 30;

        @AttributeDefinition(description = "Throttling window in seconds")
        int window_seconds() default 60;

        @AttributeDefinition(description = "Threads hashing passwords (bcrypt); 0 = one per core")
        int bcrypt_threads() default 0;

        @AttributeDefinition(description = "Password checks allowed to wait for a bcrypt thread")
        int bcrypt_queue() default 32;
    }

    private final Database db;
    private final Sealer sealer;
    private final AccessTokens tokens;
    /** Moves when the database changes; absent in unit tests (then every check reads the database). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Changes changes;
    /**
     * Credential rows as stored (sealed), by role, for the current generation: authenticate's one query was most
     * of its latency under load. Nothing is held opened; a rotation or deletion moves the generation (at once on
     * the node that wrote it, within the change watcher's period elsewhere), which empties the map.
     */
    private final java.util.Map<String, Row> rows = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long rowsGeneration = -1;
    static final int ROWS_LIMIT = 100_000;
    private volatile FailureThrottle roles;
    private volatile FailureThrottle clients;
    private final ThreadPoolExecutor bcrypt;

    @Activate
    public ApiKeyAuthenticator(@Reference Database db, @Reference Sealer sealer, @Reference AccessTokens tokens,
            Config config) {
        this.db = db;
        this.sealer = sealer;
        this.tokens = tokens;
        modified(config);
        int threads = config.bcrypt_threads() > 0 ? config.bcrypt_threads() : Runtime.getRuntime().availableProcessors();
        this.bcrypt = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(Math.max(1, config.bcrypt_queue())), r -> {
                    Thread t = new Thread(r, "coffer-bcrypt");
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * New limits apply in place (the routes stay up; counts start afresh). The bcrypt pool keeps its size until the
     * component restarts.
     */
    @Modified
    void modified(Config config) {
        long window = config.window_seconds() * 1000L;
        this.roles = new FailureThrottle(config.role_failures(), window, Clock.systemUTC());
        this.clients = new FailureThrottle(config.client_failures(), window, Clock.systemUTC());
    }

    @Deactivate
    void deactivate() {
        bcrypt.shutdownNow();
    }

    /** Refuses throttled callers up front; the keys are role and client address. */
    private void throttle(String roleId, String clientIp) {
        long wait = Math.max(roles.retryAfter(roleId), clients.retryAfter(String.valueOf(clientIp)));
        if (wait > 0) {
            throw new AuthnException(429, "too many failed authentication attempts; retry later", wait);
        }
    }

    private AuthnException failed(String roleId, String clientIp) {
        roles.failed(roleId);
        clients.failed(String.valueOf(clientIp));
        return new AuthnException(401, "");
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
        throttle(roleId, clientIp);
        Stored s = load(roleId);
        boolean ok = MessageDigest.isEqual(s != null && s.apiKey != null ? s.apiKey : DUMMY, trim(credential));
        if (!ok || s == null || s.apiKey == null || expired(s) || !originAllowed(s, clientIp)) {
            throw failed(roleId, clientIp);
        }
        roles.succeeded(roleId);
        return tokens.issue(account, login.startsWith("user/") ? login.substring(5) : login);
    }

    @Override
    public String verify(String account, String authorization, String clientIp) {
        String[] basic = parseBasic(authorization);
        byte[] key = loginBasic(account, basic, clientIp);
        Arrays.fill(key, (byte) 0);
        return roleId(account, basic[0]);
    }

    /**
     * {@code GET /authn/{account}/login}: Basic credentials (password or API key) give the API key.
     *
     * @return the API key
     */
    public byte[] loginBasic(String account, String authorization, String clientIp) {
        return loginBasic(account, parseBasic(authorization), clientIp);
    }

    private byte[] loginBasic(String account, String[] basic, String clientIp) {
        char[] password = basic[1].toCharArray();
        try {
            return login(account, basic[0], password, clientIp);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** @return login and password of a Basic header; 401 when it is missing or malformed */
    static String[] parseBasic(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new AuthnException(401, "");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(6).trim());
        } catch (IllegalArgumentException e) {
            throw new AuthnException(401, "");
        }
        String pair = new String(decoded, StandardCharsets.UTF_8);
        Arrays.fill(decoded, (byte) 0);
        int colon = pair.indexOf(':');
        if (colon < 1) {
            throw new AuthnException(401, "");
        }
        return new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    /**
     * Basic login: the password, or the API key itself, gives the API key (Conjur checks "API key OR password").
     *
     * @return the API key
     */
    public byte[] login(String account, String login, char[] password, String clientIp) {
        String roleId = roleId(account, login);
        throttle(roleId, clientIp);
        Stored s = load(roleId);
        byte[] given = new String(password).getBytes(StandardCharsets.UTF_8);
        try {
            boolean keyMatch = MessageDigest.isEqual(s != null && s.apiKey != null ? s.apiKey : DUMMY, given);
            boolean pwMatch = false;
            if (!keyMatch && s != null && s.passwordHash != null) {
                pwMatch = bcryptCheck(new String(s.passwordHash, StandardCharsets.US_ASCII), password);
            }
            if (s == null || s.apiKey == null || !(keyMatch || pwMatch) || expired(s)) {
                throw failed(roleId, clientIp);
            }
            roles.succeeded(roleId);
            return s.apiKey.clone();
        } finally {
            Arrays.fill(given, (byte) 0);
        }
    }

    private boolean bcryptCheck(String hash, char[] password) {
        char[] copy = password.clone();
        try {
            Future<Boolean> f = bcrypt.submit(() -> OpenBSDBCrypt.checkPassword(hash, copy));
            return f.get(30, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            throw new AuthnException(429, "too many password checks in progress; retry later", 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuthnException(401, "");
        } catch (ExecutionException | TimeoutException e) {
            throw new AuthnException(401, "");
        } finally {
            Arrays.fill(copy, '\0');
        }
    }

    static String roleId(String account, String login) {
        if (account == null || login == null || login.isEmpty() || login.length() > 512) {
            throw new AuthnException(401, "");
        }
        return account + ":" + Logins.roleIdTail(login);
    }

    /** A credentials row as stored: the API key and password hash still sealed. */
    private record Row(byte[] apiKey, byte[] passwordHash, Instant expiration, String[] restrictedTo) {
    }

    private static final Row NO_ROW = new Row(null, null, null, new String[0]);

    private Stored load(String roleId) {
        Row r = row(roleId);
        if (r == NO_ROW) {
            return null;
        }
        Stored s = new Stored();
        s.apiKey = r.apiKey() == null ? null : sealer.open(r.apiKey(), roleId);
        // Its own context: an API key and a password hash can't be swapped within the row unnoticed.
        s.passwordHash = r.passwordHash() == null ? null : sealer.open(r.passwordHash(), roleId + "#password");
        s.expiration = r.expiration();
        s.restrictedTo = r.restrictedTo();
        return s;
    }

    private Row row(String roleId) {
        Changes ch = changes;
        if (ch == null) {
            return query(roleId);
        }
        long gen = ch.generation();
        if (gen != rowsGeneration) {
            rows.clear();
            rowsGeneration = gen;
        }
        Row r = rows.get(roleId);
        if (r == null) {
            r = query(roleId);
            // Kept only if nothing changed meanwhile (the row read may predate a rotation that moved it).
            if (ch.generation() == gen && rowsGeneration == gen) {
                if (rows.size() >= ROWS_LIMIT) {
                    rows.clear();
                }
                rows.put(roleId, r);
            }
        }
        return r;
    }

    private Row query(String roleId) {
        String sql = "SELECT api_key, password_hash, expiration, restricted_to::text[] FROM credentials WHERE role_id = ?";
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, roleId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return NO_ROW;
                }
                Timestamp exp = rs.getTimestamp(3);
                Array cidrs = rs.getArray(4);
                return new Row(rs.getBytes(1), rs.getBytes(2), exp == null ? null : exp.toInstant(),
                        cidrs == null ? new String[0] : (String[]) cidrs.getArray());
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
            try {
                if (Cidr.parse(cidr).contains(clientIp)) {
                    return true;
                }
            } catch (IllegalArgumentException unparsable) {
                // A stored network that doesn't parse admits nobody.
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
