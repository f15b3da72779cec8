package io.coffer.audit.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.NodeIdentity;
import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditStore;
import io.coffer.api.crypto.KeyDerivation;
import io.coffer.api.crypto.KeysLockedException;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.net.NodeTls;
import io.coffer.api.store.Database;

/**
 * The node's {@link Audit}: every node records its own events in its files, and ships them to the Leader's table
 * (its own while it leads, over the audit stream otherwise); the table also takes other nodes' lines as the
 * {@link AuditStore} the Leader's receiver uses.
 */
@Component(service = {Audit.class, AuditStore.class, HealthCheck.class, AuditComponent.class}, configurationPid = AuditComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = AuditComponent.Config.class)
public class AuditComponent implements Audit, AuditStore, HealthCheck {
    static final String PID = "io.coffer.audit";

    @ObjectClassDefinition(name = "Coffer audit", description = "Audit queue, files and table")
    public @interface Config {
        @AttributeDefinition(description = "Directory of audit.json and audit.log; empty: ${karaf.base}/data/audit")
        String directory() default "";

        @AttributeDefinition(description = "Events the queue holds before callers wait")
        int queue_capacity() default 10_000;

        @AttributeDefinition(description = "How long a caller waits for room in a full queue before a 503 (ms)")
        long queue_wait_ms() default 200;

        @AttributeDefinition(description = "Events per fsync and per database batch at most")
        int batch_max() default 500;

        @AttributeDefinition(description = "Size at which each file rotates (bytes)")
        long file_max_bytes() default 50L * 1024 * 1024;

        @AttributeDefinition(description = "Rotated files kept per file")
        int file_keep() default 10;

        @AttributeDefinition(description = "The most rotated JSON files kept while their lines are not shipped yet "
                + "(the spool while the Leader is away); past it the oldest goes, with an error")
        int spool_max_files() default 100;

        @AttributeDefinition(description = "Also write audit_events when this node's database is writable")
        boolean database() default true;

        @AttributeDefinition(description = "A signed checkpoint after at most this many events")
        long checkpoint_events() default 1000;

        @AttributeDefinition(description = "A signed checkpoint at least this often while events are written (s)")
        long checkpoint_seconds() default 60;

        @AttributeDefinition(description = "The Leader's audit stream (host) where a replica sends its events: the "
                + "cluster load balancer's audit frontend; empty = events stay in this node's files")
        String forward_host() default "";

        @AttributeDefinition(description = "Port of the audit stream (Conjur's 1999)")
        int forward_port() default 1999;

        @AttributeDefinition(description = "Connect timeout of the audit stream (ms)")
        int forward_connect_timeout_ms() default 3000;

        @AttributeDefinition(description = "How long an acknowledgement may take before the batch is sent again (ms)")
        int forward_ack_timeout_ms() default 30000;
    }

    /** Absent while the schema is not current; the files still take every event. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Database db;
    /** The audit keys come from the key hierarchy once the node's keys are unlocked. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile KeyDerivation derivation;
    /** The node's certificate, for the audit stream. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeTls tls;

    private final String node;
    private final Path dir;
    private final AuditWriter writer;
    private final TableStore table;
    private final AuditShipper shipper;
    private volatile ChainKeys keys;

    @Activate
    public AuditComponent(Config config, @Reference NodeIdentity identity) throws IOException {
        dir = config.directory().isBlank()
                ? Path.of(System.getProperty("karaf.base", "."), "data", "audit") : Path.of(config.directory());
        boolean useDb = config.database();
        this.node = identity.name();
        table = new TableStore(() -> {
            Database d = db;
            return useDb && d != null ? d.dataSource() : null;
        });
        AuditShipper[] ship = new AuditShipper[1];
        writer = new AuditWriter(dir, new AuditWriter.Settings(config.queue_capacity(), config.queue_wait_ms(),
                config.batch_max(), config.file_max_bytes(), config.file_keep(), Math.max(1, config.checkpoint_events()),
                Math.max(1, config.checkpoint_seconds()) * 1000, Math.max(config.file_keep(), config.spool_max_files())),
                node, this::keys, () -> {
                    if (ship[0] != null) {
                        ship[0].wake();
                    }
                }, () -> ship[0] == null ? -1 : ship[0].shippedSeq());
        shipper = new AuditShipper(node, new SpoolReader(writer::jsonFiles, dir.resolve(AuditWriter.JSON_FILE)),
                writer::lastSeq, table, () -> tls, new AuditShipper.Target(config.forward_host().trim(),
                        config.forward_port(), config.forward_connect_timeout_ms(), config.forward_ack_timeout_ms()),
                config.batch_max());
        ship[0] = shipper;
    }

    @Deactivate
    void deactivate() throws IOException, InterruptedException {
        writer.stop();
        shipper.wake();
        // The stop checkpoint and the last lines go out if the destination is there; else they wait in the files.
        long deadline = System.currentTimeMillis() + 2_000;
        while (System.currentTimeMillis() < deadline && shipper.behind()) {
            Thread.sleep(50);
        }
        shipper.stop();
    }

    @Override
    public long storedSeq(String node) throws AuditStoreException {
        return table.storedSeq(node);
    }

    @Override
    public long store(String node, java.util.List<String> lines) throws AuditStoreException {
        return table.store(node, lines);
    }

    /** Derived once the keys are unlocked, then kept: a locked node's events are hash-linked until then. */
    ChainKeys keys() {
        ChainKeys k = keys;
        KeyDerivation d = derivation;
        if (k == null && d != null) {
            try {
                k = ChainKeys.derive(d, node);
                keys = k;
            } catch (KeysLockedException locked) {
                return null;
            }
        }
        return k;
    }

    @Override
    public void record(AuditEvent event) {
        writer.record(event);
    }

    /**
     * Verifies this node's files. The last seq they must reach is the most any witness knows: the running writer
     * (a tail cut while the node runs), the table ({@code audit_events} on the Leader), or the operator's.
     */
    public Verification verify(Long operatorExpected) throws IOException {
        AuditVerifier.Report r = report(operatorExpected);
        return new Verification(r.toString(), r.ok());
    }

    /** A verification's outcome for the shell: the report's text, and whether nothing was tampered with. */
    public record Verification(String report, boolean ok) {
    }

    AuditVerifier.Report report(Long operatorExpected) throws IOException {
        ChainKeys k = keys();
        for (int attempt = 0;; attempt++) {
            long rotations = writer.rotations();
            long expected = writer.lastSeq();
            String from = "the running writer";
            Long stored = storedSeq();
            if (stored != null && stored > expected) {
                expected = stored;
                from = "audit_events";
            }
            if (operatorExpected != null && operatorExpected > expected) {
                expected = operatorExpected;
                from = "--expect-seq";
            }
            AuditVerifier.Report r = AuditVerifier.verify(writer.jsonFiles(), k == null ? null : k.mac(),
                    k == null ? null : k.publicKey(), expected, from);
            // A rotation during the read renames the files under us: read them again.
            if (writer.rotations() == rotations || attempt >= 2) {
                return r;
            }
        }
    }

    private Long storedSeq() {
        Database d = db;
        if (d == null) {
            return null;
        }
        try (Connection c = d.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT max(seq) FROM audit_events WHERE node = ?")) {
            ps.setString(1, node);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        } catch (SQLException e) {
            return null;
        }
    }

    /** @return the checkpoints' public key (hex), or {@code null} while the keys are locked */
    public String publicKey() {
        ChainKeys k = keys();
        return k == null ? null : Chain.HEX.formatHex(k.publicKey());
    }

    public String node() {
        return node;
    }

    /** @return this node's RFC 5424 audit file */
    public Path textFile() {
        return dir.resolve(AuditWriter.TEXT_FILE);
    }

    /**
     * Writes this node's audit keys for offline verification to a new owner-only file (never over an existing one).
     * The MAC key lets its holder forge lines after the last checkpoint, never a checkpoint: keep the file offline.
     */
    public void exportKeys(Path file) throws IOException {
        ChainKeys k = keys();
        if (k == null) {
            throw new IllegalStateException("the node's keys are locked: no audit keys to export");
        }
        String text = "# Coffer audit keys of node " + node + " (offline verification; keep this file private)\n"
                + "node=" + node + "\nmac=" + Chain.HEX.formatHex(k.macKey()) + "\npublic="
                + Chain.HEX.formatHex(k.publicKey()) + "\n";
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "audit";
    }

    @Override
    public ComponentHealth check() {
        ComponentHealth h = writer.health();
        Map<String, Object> d = new LinkedHashMap<>(h.details());
        d.put("shipping", shipper.health());
        return h.ok() ? ComponentHealth.ok(d) : ComponentHealth.failed(d);
    }
}
