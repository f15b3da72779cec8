package io.coffer.crypto.internal;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.crypto.KeyDerivation;
import io.coffer.api.crypto.KeyProvider;
import io.coffer.api.crypto.KeyProviderException;
import io.coffer.api.crypto.KeyState;
import io.coffer.api.crypto.KeysLockedException;
import io.coffer.api.crypto.SealException;
import io.coffer.api.crypto.Sealer;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Database;

/**
 * The keyring: data-key versions in the replicated database, each wrapped by the root key from the server-key file.
 * A node whose root key doesn't unwrap them stays locked (unhealthy, nothing sealed or opened) rather than making
 * new keys that would fork the cluster's data. When the server-key file is wrapped by a master key, the node unlocks
 * as soon as the provider it names is present (at start, when the provider's bundle arrives, on a periodic retry,
 * or by {@code coffer:keys-unlock}), and stays locked until then.
 */
@Component(service = {Sealer.class, HealthCheck.class, KeyState.class, KeyAdmin.class, KeyDerivation.class},
        configurationPid = Keyring.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = Keyring.Config.class)
public class Keyring implements Sealer, HealthCheck, KeyState, KeyAdmin, KeyDerivation {
    public static final String PID = "io.coffer.crypto";
    private static final Logger LOG = LoggerFactory.getLogger(Keyring.class);

    @ObjectClassDefinition(name = "Coffer keys", description = "The node's server-key file and keyring")
    public @interface Config {
        @AttributeDefinition(description = "Server-key file (root key, 0600); empty = ${karaf.base}/secrets/server.key")
        String server_key_file() default "";

        @AttributeDefinition(description = "While locked, try to unlock again every this many seconds (0 = only at "
                + "start, when a provider arrives, and on coffer:keys-unlock)")
        int unlock_retry_seconds() default 30;

        @AttributeDefinition(description = "Data-key rotation: wait this long after switching to the new version "
                + "before re-encrypting, so writes sealed just before commit first")
        int rotation_grace_seconds() default 5;
    }

    private final Database database;
    private final Path file;
    private final int retrySeconds;
    private final long graceMillis;
    private final Map<String, KeyProvider> providers = new ConcurrentHashMap<>();
    private final Map<Integer, SecretKey> dataKeys = new ConcurrentHashMap<>();
    private volatile SecretKey root;
    /** {@code null} = cleartext, else the provider name that wrapped the server key. */
    private volatile String protection;
    private volatile String masterKeyId;
    private volatile int current;
    private volatile String lockedReason = "not unlocked yet";
    private volatile boolean writable;
    private volatile DataKeyRotation rotation;
    /** Tests: rotations stop (as if the node were killed) after this many batches; negative = never. */
    volatile int crashRotationAfterBatches = -1;
    private ScheduledExecutorService background;

    @Activate
    public Keyring(@Reference Database database, Config config) {
        this.database = database;
        this.file = config.server_key_file().isBlank()
                ? Paths.get(System.getProperty("karaf.base", "."), "secrets", "server.key")
                : Paths.get(config.server_key_file());
        this.retrySeconds = config.unlock_retry_seconds();
        this.graceMillis = Math.max(0, config.rotation_grace_seconds()) * 1000L;
    }

    @Activate
    void activate() {
        background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffer-keys");
            t.setDaemon(true);
            return t;
        });
        tryUnlock("start");
        if (retrySeconds > 0) {
            background.scheduleWithFixedDelay(() -> {
                if (lockedReason != null) {
                    tryUnlock("retry");
                }
            }, retrySeconds, retrySeconds, TimeUnit.SECONDS);
        }
    }

    @Deactivate
    void deactivate() {
        if (background != null) {
            background.shutdownNow();
        }
        lockedReason = "stopped";
        dataKeys.clear();
        root = null;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addProvider(KeyProvider provider) {
        providers.put(provider.name(), provider);
        ScheduledExecutorService bg = background;
        // Any arrival while locked triggers an attempt (not only the awaited provider's: an attempt running right
        // now may not have recorded what it waits for yet).
        if (bg != null && lockedReason != null) {
            bg.execute(() -> tryUnlock("master-key provider '" + provider.name() + "' arrived"));
        }
    }

    public void removeProvider(KeyProvider provider) {
        providers.remove(provider.name(), provider);
    }

    /** Unlocks, logging the outcome once: a clear line either way, not one per retry. */
    private synchronized void tryUnlock(String why) {
        if (lockedReason == null) {
            return;
        }
        String before = lockedReason;
        try {
            LOG.info("keys unlocked ({}): {}", why, unlock());
        } catch (Exception e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            lockedReason = reason;
            if (!reason.equals(before) || "start".equals(why)) {
                LOG.error("keys stay locked ({}): {}", why, reason);
            }
        }
    }

    @Override
    public synchronized String unlock() {
        if (lockedReason == null) {
            return "already unlocked; " + summary();
        }
        try (Connection c = database.dataSource().getConnection()) {
            boolean replica;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                replica = rs.getBoolean(1);
            }
            Map<Integer, byte[]> wrapped = loadWrapped(c);
            // Only a writable node with an empty keyring founds the cluster's keys (and its root key).
            ServerKeyFile.Contents contents = ServerKeyFile.read(file, wrapped.isEmpty() && !replica);
            byte[] rootBytes = contents.isWrapped() ? unwrapRoot(contents) : contents.root;
            SecretKey rootKey;
            try {
                if (rootBytes.length != 32) {
                    throw new IllegalStateException("the master key unwrapped no 256-bit root key");
                }
                rootKey = new SecretKeySpec(rootBytes, "AES");
            } finally {
                Arrays.fill(rootBytes, (byte) 0);
            }
            if (wrapped.isEmpty()) {
                if (replica) {
                    throw new IllegalStateException("the keyring is empty and this node's database is a replica");
                }
                wrapped.put(1, createFirst(c, rootKey));
            }
            Map<Integer, SecretKey> keys = new LinkedHashMap<>();
            for (Map.Entry<Integer, byte[]> e : wrapped.entrySet()) {
                byte[] raw;
                try {
                    raw = Aead.open(rootKey, e.getValue(), wrapContext(e.getKey()));
                } catch (SealException bad) {
                    throw new IllegalStateException("the server-key file " + file
                            + " does not unwrap data key v" + e.getKey() + ": it belongs to another cluster");
                }
                keys.put(e.getKey(), new SecretKeySpec(raw, "AES"));
                Arrays.fill(raw, (byte) 0);
            }
            dataKeys.putAll(keys);
            current = keys.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow();
            root = rootKey;
            protection = contents.provider;
            masterKeyId = contents.keyId;
            writable = !replica;
            lockedReason = null;
            if (writable && keys.size() > 1) {
                // Older versions are destroyed only when unused: more than one means a rotation did not finish.
                startRotation(current, 0);
                return summary() + "; resuming the data-key rotation to v" + current;
            }
            return summary();
        } catch (SQLException e) {
            throw new IllegalStateException("the keyring can't be read: " + e.getMessage());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the server-key file " + file + " can't be read: " + e.getMessage());
        }
    }

    private byte[] unwrapRoot(ServerKeyFile.Contents contents) {
        KeyProvider p = providers.get(contents.provider);
        if (p == null) {
            throw new IllegalStateException("the server key is wrapped by master-key provider '" + contents.provider
                    + "' (key " + contents.keyId + "), which is not available on this node: install and configure "
                    + "feature coffer-keyprovider-" + contents.provider + "; the node unlocks when it arrives");
        }
        try {
            return p.unwrap(contents.keyId, contents.wrapped, ServerKeyFile.WRAP_CONTEXT);
        } catch (KeyProviderException e) {
            throw new IllegalStateException("master-key provider '" + contents.provider + "' can't unwrap the server "
                    + "key with key " + contents.keyId + ": " + e.getMessage());
        }
    }

    @Override
    public byte[] derive(String purpose) {
        SecretKey r = root;
        if (lockedReason != null || r == null) {
            throw new KeysLockedException("keys are locked (" + lockedReason + ")");
        }
        return Hkdf.derive(r, purpose);
    }

    private String summary() {
        return dataKeys.size() + " data-key version(s), sealing with v" + current + "; server key "
                + (protection == null ? "in cleartext" : "wrapped by " + protection + " key " + masterKeyId);
    }

    @Override
    public synchronized String wrap(String providerName, String keyId, boolean onlyIfCleartext) {
        SecretKey r = root;
        if (lockedReason != null || r == null) {
            throw new KeysLockedException("keys are locked (" + lockedReason + "): unlock them first");
        }
        if (onlyIfCleartext && protection != null) {
            throw new IllegalStateException("the server key is already wrapped by " + protection + " key "
                    + masterKeyId + "; use coffer:keys-rotate-master to change the master key");
        }
        KeyProvider p = providers.get(Objects.requireNonNull(providerName, "provider"));
        if (p == null) {
            throw new IllegalArgumentException("no master-key provider '" + ServerKeyFile.printable(providerName)
                    + "' on this node (available: " + String.join(", ", new TreeSet<>(providers.keySet()))
                    + "); install feature coffer-keyprovider-<name>");
        }
        String id = keyId == null || keyId.isBlank() ? p.defaultKeyId() : keyId.trim();
        byte[] raw = r.getEncoded();
        byte[] back = null;
        try {
            KeyProvider.WrappedKey w = p.wrap(id, raw, ServerKeyFile.WRAP_CONTEXT);
            // Never write a file the provider can't open again.
            back = p.unwrap(w.keyId(), w.blob(), ServerKeyFile.WRAP_CONTEXT);
            if (!MessageDigest.isEqual(raw, back)) {
                throw new IllegalStateException("provider '" + p.name() + "' did not give back the key it wrapped");
            }
            ServerKeyFile.write(file, ServerKeyFile.Contents.wrapped(p.name(), w.keyId(), w.blob()));
            String was = protection == null ? "cleartext" : protection + " key " + masterKeyId;
            protection = p.name();
            masterKeyId = w.keyId();
            LOG.info("server key re-wrapped: was {}, now {} key {} ({})", was, protection, masterKeyId, file);
            return "server key now wrapped by " + protection + " key " + masterKeyId + " (was " + was + ")";
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the server-key file " + file + " can't be written: " + e.getMessage());
        } finally {
            Arrays.fill(raw, (byte) 0);
            if (back != null) {
                Arrays.fill(back, (byte) 0);
            }
        }
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        String locked = lockedReason;
        m.put("state", locked == null ? "unlocked" : "locked");
        if (locked != null) {
            m.put("reason", locked);
        }
        m.put("server_key_file", file.toString());
        if (locked == null) {
            m.put("server_key", protection == null ? "cleartext" : "wrapped");
            if (protection != null) {
                m.put("provider", protection);
                m.put("master_key_id", masterKeyId);
            }
            m.put("data_key_versions", new TreeSet<>(dataKeys.keySet()).toString());
            m.put("data_key_current", current);
        }
        m.put("providers", String.join(", ", new TreeSet<>(providers.keySet())));
        DataKeyRotation r = rotation;
        if (r != null) {
            m.putAll(r.status());
        }
        return m;
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
    private static byte[] createFirst(Connection c, SecretKey root) throws SQLException {
        byte[] raw;
        try {
            KeyGenerator gen = KeyGenerator.getInstance("AES");
            gen.init(256);
            raw = gen.generateKey().getEncoded();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("AES unavailable", e);
        }
        byte[] wrapped = Aead.seal(root, 0, raw, wrapContext(1));
        Arrays.fill(raw, (byte) 0);
        // Another node may win the race: then use its key.
        return insertVersion(c, 1, wrapped) ? wrapped : loadWrapped(c).get(1);
    }

    /** Inserts a keyring version with its change-log row in one transaction; false when it already exists. */
    private static boolean insertVersion(Connection c, int version, byte[] wrapped) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement k = c.prepareStatement(
                    "INSERT INTO keyring(version, wrapped) VALUES (?, ?) ON CONFLICT DO NOTHING");
                PreparedStatement log = c.prepareStatement(
                    "INSERT INTO change_log(write_id, account, kind, subject) VALUES (?, '!', 'keyring', ?)")) {
            k.setInt(1, version);
            k.setBytes(2, wrapped);
            if (k.executeUpdate() == 0) {
                c.rollback();
                return false;
            }
            log.setObject(1, UUID.randomUUID());
            log.setString(2, "v" + version);
            log.executeUpdate();
            c.commit();
            return true;
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
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
        int v = Aead.version(sealed);
        SecretKey key = dataKeys.get(v);
        if (key == null) {
            // A version made on the Leader after this node unlocked (it replicates before any value sealed under it).
            key = reload(v);
        }
        return Aead.open(key, sealed, context);
    }

    /** Loads keyring versions this node hasn't seen yet; one query, only when a blob names an unknown version. */
    private synchronized SecretKey reload(int wanted) {
        SecretKey k = dataKeys.get(wanted);
        SecretKey r = root;
        if (k != null || r == null) {
            if (k == null) {
                throw new SealException("sealed under unknown data-key version v" + wanted);
            }
            return k;
        }
        try (Connection c = database.dataSource().getConnection()) {
            for (Map.Entry<Integer, byte[]> e : loadWrapped(c).entrySet()) {
                if (!dataKeys.containsKey(e.getKey())) {
                    byte[] raw = Aead.open(r, e.getValue(), wrapContext(e.getKey()));
                    dataKeys.put(e.getKey(), new SecretKeySpec(raw, "AES"));
                    Arrays.fill(raw, (byte) 0);
                    current = Math.max(current, e.getKey());
                    LOG.info("keys: loaded data-key v{} from the keyring", e.getKey());
                }
            }
        } catch (SQLException e) {
            throw new SealException("data-key v" + wanted + " can't be loaded: " + e.getSQLState());
        }
        k = dataKeys.get(wanted);
        if (k == null) {
            throw new SealException("sealed under unknown data-key version v" + wanted);
        }
        return k;
    }

    /** Seals under a given version (the rotation's target), not necessarily the current one. */
    byte[] sealWith(int version, byte[] plaintext, String context) {
        SecretKey k = dataKeys.get(version);
        if (k == null || lockedReason != null) {
            throw new KeysLockedException("data-key v" + version + " is not available");
        }
        return Aead.seal(k, version, plaintext, context);
    }

    @Override
    public String rotateData(boolean wait) throws InterruptedException {
        DataKeyRotation job = newDataKey();
        if (wait) {
            while (!job.finished()) {
                Thread.sleep(100);
            }
            return "data-key v" + job.target() + ": " + job.status().get("rotation");
        }
        return "data-key v" + job.target() + " created; re-encrypting in the background (coffer:keys-status shows "
                + "progress)";
    }

    private synchronized DataKeyRotation newDataKey() {
        SecretKey r = root;
        if (lockedReason != null || r == null) {
            throw new KeysLockedException("keys are locked (" + lockedReason + "): unlock them first");
        }
        if (!writable) {
            throw new IllegalStateException("this node's database is a replica: rotate data keys on the Leader");
        }
        DataKeyRotation running = rotation;
        if (running != null && !running.finished()) {
            throw new IllegalStateException("a rotation to v" + running.target() + " is running; see coffer:keys-status");
        }
        int next;
        try (Connection c = database.dataSource().getConnection()) {
            next = loadWrapped(c).keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
            byte[] raw = new byte[32];
            new java.security.SecureRandom().nextBytes(raw);
            byte[] wrapped = Aead.seal(r, 0, raw, wrapContext(next));
            if (!insertVersion(c, next, wrapped)) {
                throw new IllegalStateException("data-key v" + next + " was created concurrently; try again");
            }
            dataKeys.put(next, new SecretKeySpec(raw, "AES"));
            Arrays.fill(raw, (byte) 0);
            current = next;
        } catch (SQLException e) {
            throw new IllegalStateException("the new data key can't be stored: " + e.getMessage());
        }
        LOG.info("keys: data-key v{} created; new values are sealed under it", next);
        return startRotation(next, graceMillis);
    }

    private DataKeyRotation startRotation(int target, long grace) {
        DataKeyRotation job = new DataKeyRotation(this, database, target, grace);
        job.crashAfterBatches = crashRotationAfterBatches;
        rotation = job;
        ScheduledExecutorService bg = background;
        if (bg != null) {
            bg.execute(job);
        } else {
            job.run();
        }
        return job;
    }

    /** @return the running or last rotation of this node, or {@code null} */
    DataKeyRotation rotation() {
        return rotation;
    }

    @Override
    public boolean unlocked() {
        return lockedReason == null;
    }

    @Override
    public String lockedReason() {
        return lockedReason;
    }

    @Override
    public String name() {
        return "keys";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        String locked = lockedReason;
        d.put("state", locked == null ? "unlocked" : "locked");
        d.put("unlocked", locked == null);
        if (locked != null) {
            d.put("error", locked);
            return ComponentHealth.failed(d);
        }
        d.put("data_key_version", current);
        d.put("server_key", protection == null ? "cleartext" : protection);
        return ComponentHealth.ok(d);
    }
}
