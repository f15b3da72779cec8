package io.coffer.crypto.internal;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.crypto.KeysLockedException;
import io.coffer.api.crypto.SealException;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Database;

/**
 * The keyring: data-key versions in the replicated database, each wrapped by the root key from the server-key file.
 * A node whose root key doesn't unwrap them stays locked (unhealthy, nothing sealed or opened) rather than making
 * new keys that would fork the cluster's data.
 */
@Component(service = {Sealer.class, HealthCheck.class}, configurationPid = Keyring.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = Keyring.Config.class)
public class Keyring implements Sealer, HealthCheck {
    public static final String PID = "io.coffer.crypto";
    private static final Logger LOG = LoggerFactory.getLogger(Keyring.class);

    @ObjectClassDefinition(name = "Coffer keys", description = "The node's server-key file and keyring")
    public @interface Config {
        @AttributeDefinition(description = "Server-key file (root key, 0600); empty = ${karaf.base}/secrets/server.key")
        String server_key_file() default "";
    }

    private final Map<Integer, SecretKey> dataKeys = new ConcurrentHashMap<>();
    private volatile int current;
    private volatile String lockedReason = "not unlocked yet";

    @Activate
    public Keyring(@Reference Database database, Config config) {
        Path file = config.server_key_file().isBlank()
                ? Paths.get(System.getProperty("karaf.base", "."), "secrets", "server.key")
                : Paths.get(config.server_key_file());
        try {
            unlock(database, file);
        } catch (Exception e) {
            lockedReason = e.getMessage();
            LOG.error("keys stay locked: {}", e.getMessage());
        }
    }

    void unlock(Database database, Path file) throws Exception {
        try (Connection c = database.dataSource().getConnection()) {
            boolean replica;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                replica = rs.getBoolean(1);
            }
            Map<Integer, byte[]> wrapped = loadWrapped(c);
            // Only a writable node with an empty keyring founds the cluster's keys (and its root key).
            byte[] rootBytes = ServerKeyFile.load(file, wrapped.isEmpty() && !replica);
            SecretKey root = new SecretKeySpec(rootBytes, "AES");
            Arrays.fill(rootBytes, (byte) 0);
            if (wrapped.isEmpty()) {
                if (replica) {
                    throw new IllegalStateException("the keyring is empty and this node's database is a replica");
                }
                wrapped.put(1, createFirst(c, root));
            }
            for (Map.Entry<Integer, byte[]> e : wrapped.entrySet()) {
                byte[] raw;
                try {
                    raw = Aead.open(root, e.getValue(), wrapContext(e.getKey()));
                } catch (SealException bad) {
                    throw new IllegalStateException("the server-key file " + file
                            + " does not unwrap data key v" + e.getKey() + ": it belongs to another cluster");
                }
                dataKeys.put(e.getKey(), new SecretKeySpec(raw, "AES"));
                Arrays.fill(raw, (byte) 0);
            }
            current = wrapped.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow();
            lockedReason = null;
            LOG.info("keys unlocked: {} data-key version(s), sealing with v{}", dataKeys.size(), current);
        }
    }

    private static Map<Integer, byte[]> loadWrapped(Connection c) throws SQLException {
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT version, wrapped FROM keyring ORDER BY version")) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getBytes(2));
            }
        }
        return out;
    }

    /** Creates data key v1 with its change-log row in one transaction (architecture §8). */
    private static byte[] createFirst(Connection c, SecretKey root) throws Exception {
        KeyGenerator gen = KeyGenerator.getInstance("AES");
        gen.init(256);
        byte[] raw = gen.generateKey().getEncoded();
        byte[] wrapped = Aead.seal(root, 0, raw, wrapContext(1));
        Arrays.fill(raw, (byte) 0);
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement k = c.prepareStatement(
                    "INSERT INTO keyring(version, wrapped) VALUES (1, ?) ON CONFLICT DO NOTHING");
                PreparedStatement log = c.prepareStatement(
                    "INSERT INTO change_log(write_id, account, kind, subject) VALUES (?, '!', 'keyring', 'v1')")) {
            k.setBytes(1, wrapped);
            if (k.executeUpdate() == 0) {
                // Another node won the race: use its key.
                c.rollback();
                return loadWrapped(c).get(1);
            }
            log.setObject(1, UUID.randomUUID());
            log.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        return wrapped;
    }

    static String wrapContext(int version) {
        return "coffer:keyring:v" + version;
    }

    @Override
    public byte[] seal(byte[] plaintext, String context) {
        String locked = lockedReason;
        if (locked != null) {
            throw new KeysLockedException(locked);
        }
        int v = current;
        return Aead.seal(dataKeys.get(v), v, plaintext, context);
    }

    @Override
    public byte[] open(byte[] sealed, String context) {
        String locked = lockedReason;
        if (locked != null) {
            throw new KeysLockedException(locked);
        }
        SecretKey key = dataKeys.get(Aead.version(sealed));
        if (key == null) {
            throw new SealException("sealed under unknown data-key version v" + Aead.version(sealed));
        }
        return Aead.open(key, sealed, context);
    }

    @Override
    public String name() {
        return "keys";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        String locked = lockedReason;
        d.put("unlocked", locked == null);
        if (locked != null) {
            d.put("error", locked);
            return ComponentHealth.failed(d);
        }
        d.put("data_key_version", current);
        return ComponentHealth.ok(d);
    }
}
