package io.coffer.replication.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/**
 * Enrolment seeds, issued on the Leader: everything a new replica needs (the root key, the cluster CA, the database
 * passwords its copy of the database uses, where to stream from), sealed under a one-time passphrase, bound to one
 * node name and role, valid for a short time, consumable once, revocable. The table keeps only the SHA-256 of each
 * seed's consumption token; each issue, consumption and revocation commits with a change-log row.
 */
@Component(service = Enrolment.class)
public class Enrolment {
    private static final Logger LOG = LoggerFactory.getLogger(Enrolment.class);
    static final Set<String> ROLES = Set.of("standby", "follower", "dr-standby");
    static final Duration MAX_TTL = Duration.ofDays(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What an operator receives: the seed text and its passphrase (to be sent by another channel). */
    public static final class Issued {
        public final UUID id;
        public final String seed;
        public final String passphrase;

        Issued(UUID id, String seed, String passphrase) {
            this.id = id;
            this.seed = seed;
            this.passphrase = passphrase;
        }
    }

    /** The outcome of a consumption attempt, with the HTTP status the API answers. */
    enum Outcome {
        CONSUMED(204), UNKNOWN(401), ROLE_MISMATCH(403), USED(409), REVOKED(409), EXPIRED(409);

        final int status;

        Outcome(int status) {
            this.status = status;
        }
    }

    private final Database db;
    private final ChangeLog changes;
    private final Path base;
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL)
    private volatile ConfigurationAdmin configAdmin;

    @Activate
    public Enrolment(@Reference Database db, @Reference ChangeLog changes) {
        this(db, changes, Paths.get(System.getProperty("karaf.base", ".")));
    }

    Enrolment(Database db, ChangeLog changes, Path base) {
        this.db = db;
        this.changes = changes;
        this.base = base;
    }

    /**
     * Issues a seed; {@code upstream} ({@code host:port}) and {@code apiUrl} default to this node's PostgreSQL and API
     * on 127.0.0.1 (a cluster on one machine); in production name the load balancer's frontends.
     */
    public Issued issue(String name, String role, Duration ttl, String upstream, String apiUrl, String createdBy)
            throws IOException, SQLException, GeneralSecurityException {
        String host = "127.0.0.1";
        int port = intConfig("io.coffer.postgres", "port", 5433);
        if (upstream != null && !upstream.isBlank()) {
            int colon = upstream.lastIndexOf(':');
            if (colon < 1 || !upstream.substring(colon + 1).matches("[0-9]{1,5}")) {
                throw new IllegalArgumentException("--upstream must be host:port");
            }
            host = upstream.substring(0, colon);
            port = Integer.parseInt(upstream.substring(colon + 1));
        }
        String api = apiUrl != null && !apiUrl.isBlank() ? apiUrl
                : "https://127.0.0.1:" + intConfig("org.ops4j.pax.web", "org.osgi.service.http.port.secure", 8443);
        if (!api.startsWith("https://")) {
            throw new IllegalArgumentException("--api-url must be https://...");
        }
        return issue(name, role, ttl, host, port, api, createdBy);
    }

    private int intConfig(String pid, String key, int fallback) {
        ConfigurationAdmin ca = configAdmin;
        try {
            Object v = ca == null ? null : ca.getConfiguration(pid, null).getProperties() == null ? null
                    : ca.getConfiguration(pid, null).getProperties().get(key);
            return v == null ? fallback : Integer.parseInt(v.toString().trim());
        } catch (IOException | NumberFormatException e) {
            return fallback;
        }
    }

    Issued issue(String name, String role, Duration ttl, String upstreamHost, int upstreamPort, String apiUrl,
            String createdBy) throws IOException, SQLException, GeneralSecurityException {
        if (name == null || !name.matches("[a-z0-9_-]{1,63}")) {
            throw new IllegalArgumentException("node name must be 1-63 of a-z, 0-9, '_', '-'");
        }
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("role must be standby, follower or dr-standby");
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("a seed lives at most " + MAX_TTL.toHours() + " hours");
        }
        Path secrets = base.resolve("secrets");
        Properties p = new Properties();
        Base64.Encoder b64 = Base64.getEncoder();
        p.setProperty("server.key", b64.encodeToString(Files.readAllBytes(secrets.resolve("server.key"))));
        p.setProperty("db.app.password", text(secrets.resolve("postgres-coffer.password")));
        p.setProperty("db.replication.password", text(secrets.resolve("postgres-coffer_replication.password")));
        // The copy's superuser is the Leader's: a replica promoted, then restarted, sets its roles up with it.
        p.setProperty("db.superuser.password", text(secrets.resolve("postgres-postgres.password")));
        p.setProperty("ca.p12", b64.encodeToString(Files.readAllBytes(secrets.resolve("ca.p12"))));
        p.setProperty("ca.password", text(secrets.resolve("ca.password")));
        p.setProperty("ca.pem", Files.readString(base.resolve("etc/tls/ca.pem"), StandardCharsets.UTF_8));
        p.setProperty("upstream.host", upstreamHost);
        p.setProperty("upstream.port", Integer.toString(upstreamPort));
        p.setProperty("api.url", apiUrl);
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        p.setProperty("token", token);
        UUID id = UUID.randomUUID();
        Instant expires = Instant.now().plus(ttl);
        String passphrase = SeedCodec.passphrase();
        String seed = SeedCodec.seal(id, name, role, expires, p, passphrase.toCharArray());
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrolment_seeds(id, node_name, role, "
                    + "token_sha256, created_by, expires_at) VALUES (?,?,?,?,?,?)")) {
                ps.setObject(1, id);
                ps.setString(2, name);
                ps.setString(3, role);
                ps.setBytes(4, sha256(token));
                ps.setString(5, createdBy);
                ps.setObject(6, expires.atOffset(ZoneOffset.UTC));
                ps.executeUpdate();
                changes.append(c, "!", "seed-issue", id.toString());
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        LOG.info("issued enrolment seed {} for node {} as {} (expires {}), by {}", id, name, role, expires, createdBy);
        return new Issued(id, seed, passphrase);
    }

    /** Accepts a seed once: the token must match, the role and name be the ones it was issued for. */
    Outcome consume(UUID id, String token, String role, String name, String from) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                Outcome o;
                try (PreparedStatement ps = c.prepareStatement("SELECT token_sha256, role, node_name, expires_at, "
                        + "consumed_at, revoked_at FROM enrolment_seeds WHERE id = ? FOR UPDATE")) {
                    ps.setObject(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || token == null
                                || !MessageDigest.isEqual(rs.getBytes(1), sha256(token))) {
                            o = Outcome.UNKNOWN;
                        } else if (rs.getObject(6) != null) {
                            o = Outcome.REVOKED;
                        } else if (rs.getObject(5) != null) {
                            o = Outcome.USED;
                        } else if (rs.getObject(4, OffsetDateTime.class).toInstant().isBefore(Instant.now())) {
                            o = Outcome.EXPIRED;
                        } else if (!rs.getString(2).equals(role) || !rs.getString(3).equals(name)) {
                            o = Outcome.ROLE_MISMATCH;
                        } else {
                            o = Outcome.CONSUMED;
                        }
                    }
                }
                if (o == Outcome.CONSUMED) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_seeds SET consumed_at = now(), "
                            + "consumed_from = ? WHERE id = ?")) {
                        ps.setString(1, from);
                        ps.setObject(2, id);
                        ps.executeUpdate();
                    }
                    changes.append(c, "!", "seed-consume", id.toString());
                }
                c.commit();
                LOG.info("enrolment seed {} from {}: {}", id, from, o);
                return o;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    public boolean revoke(UUID id) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_seeds SET revoked_at = now() WHERE id = ? "
                    + "AND revoked_at IS NULL AND consumed_at IS NULL")) {
                ps.setObject(1, id);
                boolean done = ps.executeUpdate() == 1;
                if (done) {
                    changes.append(c, "!", "seed-revoke", id.toString());
                }
                c.commit();
                return done;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    public List<Map<String, Object>> list() throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement("SELECT id, "
                + "node_name, role, created_by, expires_at, consumed_at, consumed_from, revoked_at FROM "
                + "enrolment_seeds ORDER BY created_at DESC LIMIT 100"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", rs.getString(1));
                m.put("name", rs.getString(2));
                m.put("role", rs.getString(3));
                m.put("created_by", rs.getString(4));
                m.put("expires", rs.getString(5));
                m.put("state", rs.getObject(8) != null ? "revoked" : rs.getObject(6) != null
                        ? "consumed from " + rs.getString(7) : "open");
                out.add(m);
            }
        }
        return out;
    }

    private static String text(Path f) throws IOException {
        return Files.readString(f, StandardCharsets.UTF_8).trim();
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
