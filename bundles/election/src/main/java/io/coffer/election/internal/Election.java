package io.coffer.election.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

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

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;
import io.coffer.api.crypto.KeyState;
import io.coffer.api.election.Leadership;
import io.coffer.api.election.WriteHandover;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.replication.Promoter;
import io.coffer.api.replication.ReplicationStrategy;
import io.coffer.api.store.Database;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;

/**
 * This node in the auto-failover cluster (architecture §5). Active only where {@code io.coffer.election} is
 * configured. Once a second (and at once when the leader key changes) it publishes its member key under its own
 * lease, reads the leader key and acts on its role:
 * <ul>
 * <li>a Leader whose database is writable creates the leader key when it is vacant (and nobody else led since it
 * last did), under a lease {@link LeaderLease} keeps alive; the key's create_revision is the epoch;</li>
 * <li>the synchronous Standby recorded in etcd takes a vacant key in one txn and promotes itself
 * ({@link Promoter});</li>
 * <li>other Standbys re-point at the Leader the key names.</li>
 * </ul>
 */
@Component(service = {Leadership.class, HealthCheck.class}, configurationPid = Election.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = Election.Config.class)
public class Election implements Leadership, HealthCheck {
    static final String PID = "io.coffer.election";
    private static final Logger LOG = LoggerFactory.getLogger(Election.class);

    @ObjectClassDefinition(name = "Coffer election", description = "Auto-failover on etcd: member keys, the leader "
            + "key and its lease, promotion of the recorded synchronous Standby")
    public @interface Config {
        @AttributeDefinition(description = "etcd client URLs, comma-separated (the node's own member first)")
        String endpoints();

        @AttributeDefinition(description = "Cluster name: keys live under /coffer/<cluster>/")
        String cluster() default "coffer";

        @AttributeDefinition(description = "etcd user (empty: etcd without authentication)")
        String user() default "";

        @AttributeDefinition(description = "File holding the etcd user's password (owner-only)")
        String password_file() default "";

        @AttributeDefinition(description = "CA certificate (PEM) for etcd's TLS; empty: plain http endpoints")
        String tls_ca() default "";

        @AttributeDefinition(description = "This node's client certificate (PEM) for etcd")
        String tls_cert() default "";

        @AttributeDefinition(description = "This node's client key (PEM, PKCS#8) for etcd")
        String tls_key() default "";

        @AttributeDefinition(description = "host:port of this node's PostgreSQL as the others reach it")
        String advertise_postgres() default "";

        @AttributeDefinition(description = "host:port of this node's PROXY-protocol API listener, where a Leader "
                + "handing over relays requests (switchover)")
        String advertise_api() default "";

        @AttributeDefinition(description = "host:port of this node's plain health port, where a Leader handing over "
                + "waits for this node to answer /health/leader")
        String advertise_health() default "";

        @AttributeDefinition(description = "Leader lease TTL in seconds (renewed every TTL/6; writes stop at "
                + "TTL - margin without a renewal)")
        int ttl_seconds() default 3;

        @AttributeDefinition(description = "Milliseconds before the lease's earliest expiry at which a Leader "
                + "stops accepting writes")
        int fence_margin_millis() default 1000;

        @AttributeDefinition(description = "How often the member key is refreshed and the leader key checked (ms)")
        int refresh_millis() default 1000;

        @AttributeDefinition(description = "Seconds a Leader's database may stay unreachable (the node restarts a "
                + "dead postmaster meanwhile) before the Leader gives the leadership up to the synchronous Standby")
        int db_grace_seconds() default 10;
    }

    private final NodeIdentity node;
    private final Keys keys;
    private final Etcd etcd;
    private final LeaderLease lease;
    private final long ttl;
    private final long dbGraceNanos;
    /** Whether, and since when, this Leader's database has not answered (see {@link #giveUpIfDatabaseGone}). */
    private boolean dbDown;
    private long dbDownSince;
    private final String advertisePostgres;
    private final String advertiseApi;
    private final String advertiseHealth;
    /** This node's own etcd member (the first endpoint), asked who leads the Raft group. */
    private final String ownEndpoint;
    private volatile String etcdLeader;
    private int ticks;
    /** How long a tick waits for the database's answer (see {@link #dbState}). */
    static final long DB_PROBE_MILLIS = 2500;
    private final java.util.concurrent.ExecutorService dbProbe = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "coffer-election-db");
        t.setDaemon(true);
        return t;
    });
    private volatile Future<DbState> pendingProbe;
    /** Set while a switchover has stopped this Leader's database on purpose, until it starts again. */
    private volatile boolean dbStopped;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-election");
        t.setDaemon(true);
        return t;
    });
    private Watch.Watcher watcher;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Database database;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile KeyState keyState;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ReplicationStrategy replication;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Promoter promoter;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile WriteHandover handover;

    private long memberLease;
    private volatile String leaderName;
    private volatile String recordedSync;
    private volatile Map<String, Map<String, Object>> members = Map.of();
    private volatile long lastContactNanos;
    private volatile String error = "starting";
    private String lastRefusal;
    private long rebasedForEpoch;
    private boolean prepared;

    @Activate
    public Election(@Reference NodeIdentity node, Config config) throws IOException {
        this.node = node;
        this.keys = new Keys(config.cluster());
        this.ttl = Math.max(2, config.ttl_seconds());
        this.dbGraceNanos = Math.max(1, config.db_grace_seconds()) * 1_000_000_000L;
        this.advertisePostgres = config.advertise_postgres();
        this.advertiseApi = config.advertise_api();
        this.advertiseHealth = config.advertise_health();
        List<String> endpoints = Arrays.stream(config.endpoints().split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).collect(Collectors.toList());
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("io.coffer.election: endpoints is empty");
        }
        this.ownEndpoint = endpoints.get(0);
        byte[] password = config.password_file().isEmpty() ? new byte[0] : readPassword(config.password_file());
        this.etcd = Etcd.connect(endpoints, config.user(), password, file(config.tls_ca()), file(config.tls_cert()),
                file(config.tls_key()), Math.max(500, ttl * 1000 / 3));
        Arrays.fill(password, (byte) 0);
        long margin = Math.min(Math.max(0, config.fence_margin_millis()), ttl * 1000 / 2);
        this.lease = new LeaderLease(etcd, ttl, margin, System::nanoTime);
        lease.onGone(() -> loop.execute(this::tick));
        loop.scheduleWithFixedDelay(this::tick, 0, Math.max(200, config.refresh_millis()), TimeUnit.MILLISECONDS);
        loop.execute(this::watchLeader);
        LOG.info("election: node {} in cluster '{}' on {} etcd endpoint(s), leader lease TTL {} s", node.name(),
                config.cluster(), endpoints.size(), ttl);
    }

    private static File file(String path) {
        return path == null || path.isEmpty() ? null : new File(path);
    }

    private static byte[] readPassword(String path) throws IOException {
        byte[] b = Files.readAllBytes(Path.of(path));
        int n = b.length;
        while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
            n--;
        }
        byte[] p = Arrays.copyOf(b, n);
        Arrays.fill(b, (byte) 0);
        return p;
    }

    @Deactivate
    void deactivate() {
        dbProbe.shutdownNow();
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (watcher != null) {
            watcher.close();
        }
        // Stepping down on purpose: revoke at once, so the synchronous Standby need not wait for the TTL.
        lease.release(lease.holds());
        lease.close();
        if (memberLease != 0) {
            try {
                etcd.revoke(memberLease, 1000);
            } catch (RuntimeException e) {
                // the member key lapses with its lease
            }
        }
        etcd.close();
    }

    private void watchLeader() {
        try {
            watcher = etcd.watch(keys.leader(), () -> {
                if (!loop.isShutdown()) {
                    loop.execute(this::tick);
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("election: could not watch the leader key ({}); checking it every refresh instead",
                    e.getMessage());
        }
    }

    /** What the node's database says: in recovery or not (null: unknown), its LSN and timeline. */
    static final class DbState {
        Boolean inRecovery;
        String lsn;
        Long timeline;
    }

    /**
     * What the database says, within {@link #DB_PROBE_MILLIS}: the query runs on a thread of its own, so a database
     * that is down (the pool then waits seconds for a connection) never holds the election loop, which also
     * releases the key in a switchover and acts on a vacant key. A probe still running from an earlier tick is
     * waited for rather than doubled. Unknown while a switchover has stopped the database on purpose.
     */
    DbState dbState() {
        if (dbStopped) {
            return new DbState();
        }
        Future<DbState> f = pendingProbe;
        if (f == null || f.isDone()) {
            try {
                f = dbProbe.submit(this::queryDbState);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return new DbState();
            }
            pendingProbe = f;
        }
        try {
            return f.get(DB_PROBE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DbState();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return new DbState(); // unknown: never a reason to promote
        }
    }

    private DbState queryDbState() {
        DbState s = new DbState();
        Database db = database;
        if (db == null) {
            return s;
        }
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(2);
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN "
                    + "pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END::text, CASE WHEN pg_is_in_recovery() "
                    + "THEN (SELECT received_tli FROM pg_stat_wal_receiver) ELSE (SELECT timeline_id FROM "
                    + "pg_control_checkpoint()) END")) {
                if (rs.next()) {
                    s.inRecovery = rs.getBoolean(1);
                    s.lsn = rs.getString(2);
                    s.timeline = rs.getObject(3) == null ? null : rs.getLong(3);
                }
            }
        } catch (SQLException | RuntimeException e) {
            // unknown: never a reason to promote
        }
        return s;
    }

    synchronized void tick() {
        try {
            DbState db = dbState();
            Optional<KeyValue> leaderKv = etcd.get(keys.leader());
            recordedSync = etcd.get(keys.sync()).map(kv -> Etcd.text(kv.getValue())).orElse(null);
            Map<String, Object> leader = leaderKv.map(kv -> safeRead(Etcd.text(kv.getValue()))).orElse(null);
            leaderName = leader == null ? null : String.valueOf(leader.get("name"));
            // Acting comes first: a vacant key is taken before this member's own bookkeeping (failover time).
            act(db, leaderKv.orElse(null), leader);
            publishMember(db);
            Map<String, Map<String, Object>> m = new TreeMap<>();
            for (KeyValue kv : etcd.list(keys.members())) {
                String k = Etcd.text(kv.getKey());
                try {
                    m.put(k.substring(keys.members().length()), Json.read(Etcd.text(kv.getValue())));
                } catch (IllegalArgumentException e) {
                    m.put(k.substring(keys.members().length()), Map.of("error", "unreadable member record"));
                }
            }
            members = Collections.unmodifiableMap(m);
            lastContactNanos = System.nanoTime();
            error = null;
            if (ticks++ % 5 == 0) {
                etcdLeader = raftLeader();
            }
        } catch (RuntimeException e) {
            if (error == null || !error.equals(e.getMessage())) {
                LOG.warn("election: {}", e.getMessage());
            }
            error = e.getMessage();
        }
    }

    /** Who leads etcd's Raft group (for operators: the console's cluster page), every fifth tick; null if unknown. */
    private String raftLeader() {
        try {
            return etcd.raftLeader(ownEndpoint);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Map<String, Object> safeRead(String json) {
        try {
            return Json.read(json);
        } catch (IllegalArgumentException e) {
            return Map.of("name", "?");
        }
    }

    private void publishMember(DbState db) {
        if (memberLease == 0 || etcd.keepAliveOnce(memberLease, ttl * 1000 / 3) == 0) {
            // Twice the leader TTL: a promotion holds this loop for a second or more.
            memberLease = etcd.grant(2 * ttl);
        }
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("name", node.name());
        me.put("role", node.role().id());
        me.put("healthy", db.inRecovery != null);
        me.put("in_recovery", db.inRecovery);
        me.put("lsn", db.lsn);
        me.put("timeline", db.timeline);
        String sync = recordedSync;
        me.put("synchronous", sync != null && sync.equals(Candidate.applicationName(node.name())));
        KeyState k = keyState;
        me.put("keys_unlocked", k != null && k.unlocked());
        me.put("postgres", advertisePostgres);
        me.put("api", advertiseApi);
        me.put("health", advertiseHealth);
        me.put("leader", lease.holds());
        etcd.put(keys.member(node.name()), Json.write(me), memberLease);
    }

    private void act(DbState db, KeyValue leaderKv, Map<String, Object> leader) {
        if (handingOverTo != null) {
            return; // switchover() neither retakes the key it released nor demotes before its relay drained
        }
        if (leaderKv != null && lease.leaseId() != 0 && leaderKv.getLease() == lease.leaseId()) {
            giveUpIfDatabaseGone(db); // our key: LeaderLease renews it (and fences this node when it can't)
            return;
        }
        dbDown = false;
        NodeRole role = node.role();
        if (leaderKv == null) {
            if (role == NodeRole.LEADER && Boolean.FALSE.equals(db.inRecovery)) {
                lead(false);
            } else if (role == NodeRole.STANDBY) {
                KeyState k = keyState;
                String refusal = Candidate.refusal(role, node.name(), db.inRecovery, k != null && k.unlocked(),
                        promoter != null, recordedSync);
                if (refusal == null) {
                    if (lead(true)) {
                        promote();
                    }
                } else if (!refusal.equals(lastRefusal)) {
                    LOG.info("election: the leader key is vacant; node {} does not take it: {}", node.name(), refusal);
                }
                lastRefusal = refusal;
            }
            return;
        }
        if (role == NodeRole.LEADER && leader != null && !node.name().equals(leader.get("name"))) {
            demote(leader.get("name"));
            return;
        }
        Map<String, Object> after = handedOver;
        if (after != null && Boolean.TRUE.equals(db.inRecovery)) {
            handedOver = null;
        } else if (after != null && role == NodeRole.STANDBY && db.inRecovery == null) {
            dbStopped = false; // the rejoin starts it again, as a replica
            rejoin(leader != null ? leader : after); // stopped by its switchover: it starts as a replica
            return;
        }
        if (role == NodeRole.STANDBY && Boolean.TRUE.equals(db.inRecovery) && leader != null) {
            prepare();
            follow(leaderKv.getCreateRevision(), leader);
        } else if (role == NodeRole.STANDBY && Boolean.FALSE.equals(db.inRecovery) && leader != null
                && !node.name().equals(leader.get("name"))) {
            rejoin(leader);
        }
    }

    /**
     * A Leader whose database hasn't answered for {@code db.grace.seconds} gives the key up (Patroni's
     * master_start_timeout). A postmaster killed under a running node is restarted by the node within seconds, and
     * meanwhile the cluster keeps its Leader (writes fail, nothing is lost); one that can't come back (its disk, its
     * data) would otherwise hold the cluster without a writable database for ever. The recorded synchronous Standby
     * has every acknowledged commit, so handing over costs nothing; this node demotes itself when it sees the new
     * key, and rejoins once its database runs again.
     */
    private void giveUpIfDatabaseGone(DbState db) {
        if (db.inRecovery != null) {
            dbDown = false;
            return;
        }
        long now = System.nanoTime();
        if (!dbDown) {
            dbDown = true;
            dbDownSince = now;
            return;
        }
        if (now - dbDownSince >= dbGraceNanos) {
            LOG.warn("election: node {}'s database has not answered for {} s: giving the leadership up to the "
                    + "synchronous Standby", node.name(), (now - dbDownSince) / 1_000_000_000L);
            dbDown = false;
            lease.release(true);
        }
    }

    /**
     * A Standby whose database is writable is a replaced Leader (demoted in place, or restarted after the failover):
     * it rewinds onto the Leader's timeline and streams from it, on a thread of its own (a rewind takes seconds; the
     * loop keeps publishing this member meanwhile). Retried every 30 s while it fails (the Leader unreachable).
     */
    private void rejoin(Map<String, Object> leader) {
        ReplicationStrategy rs = replication;
        Object pg = leader.get("postgres");
        long now = System.nanoTime();
        if (rs == null || pg == null || rejoining || now - lastRejoinNanos < 30_000_000_000L && lastRejoinNanos != 0) {
            return;
        }
        String target = pg.toString();
        int colon = target.lastIndexOf(':');
        if (colon < 1) {
            return;
        }
        rejoining = true;
        lastRejoinNanos = now;
        Thread t = new Thread(() -> {
            try {
                LOG.warn("election: node {} was replaced by {}: rewinding its database to rejoin as a Standby",
                        node.name(), leader.get("name"));
                rs.rejoin(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
                LOG.info("election: node {} rejoined as a Standby of {}", node.name(), leader.get("name"));
            } catch (RuntimeException e) {
                LOG.warn("election: node {} could not rejoin {} yet: {}", node.name(), target, e.getMessage());
            } finally {
                rejoining = false;
            }
        }, "coffer-election-rejoin");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Another node holds the leader key: this Leader was replaced (its lease lapsed while it was cut off or paused).
     * It already takes no writes (it holds no key); it demotes itself so its API closes and nothing routes to it.
     */
    private void demote(Object newLeader) {
        Promoter p = promoter;
        lease.release(false);
        if (p == null) {
            return;
        }
        try {
            p.demoteToStandby();
            LOG.warn("election: node {} was replaced by {} and demoted itself", node.name(), newLeader);
        } catch (RuntimeException e) {
            LOG.warn("election: node {} was replaced by {} but could not demote itself: {}", node.name(), newLeader,
                    e.getMessage());
        }
    }

    /**
     * A Standby installs the write side once, ahead of any promotion (its routes stay closed until then), on a
     * thread of its own: a feature install takes seconds, and this loop must keep watching the leader key meanwhile
     * (a promotion that comes first simply waits for it).
     */
    private void prepare() {
        Promoter p = promoter;
        if (prepared || p == null) {
            return;
        }
        prepared = true;
        Thread t = new Thread(() -> {
            try {
                p.prepare();
            } catch (RuntimeException e) {
                LOG.warn("election: node {} could not prepare for promotion ({}); a promotion will install the "
                        + "write side then", node.name(), e.getMessage());
            }
        }, "coffer-election-prepare");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Takes the vacant leader key in one txn. A Standby's txn also requires etcd to still record it as the
     * synchronous Standby; a Leader's requires that nobody else led since it last did.
     */
    private boolean lead(boolean asStandby) {
        Cmp vacant = new Cmp(Etcd.bytes(keys.leader()), Cmp.Op.EQUAL, CmpTarget.createRevision(0));
        Cmp second;
        if (asStandby) {
            second = new Cmp(Etcd.bytes(keys.sync()), Cmp.Op.EQUAL,
                    CmpTarget.value(Etcd.bytes(Candidate.applicationName(node.name()))));
        } else {
            Optional<KeyValue> last = etcd.get(keys.lastLeader());
            if (last.isPresent() && !node.name().equals(Etcd.text(last.get().getValue()))) {
                String other = Etcd.text(last.get().getValue());
                if (!other.equals(lastRefusal)) {
                    LOG.warn("election: node {} is configured Leader but {} led since; it does not take the "
                            + "leader key (and accepts no writes)", node.name(), other);
                }
                lastRefusal = other;
                return false;
            }
            second = last.isPresent()
                    ? new Cmp(Etcd.bytes(keys.lastLeader()), Cmp.Op.EQUAL, CmpTarget.modRevision(
                            last.get().getModRevision()))
                    : new Cmp(Etcd.bytes(keys.lastLeader()), Cmp.Op.EQUAL, CmpTarget.createRevision(0));
        }
        long sent = System.nanoTime();
        long id = etcd.grant(ttl);
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", node.name());
        value.put("postgres", advertisePostgres);
        TxnResponse r;
        try {
            r = etcd.txn(new Cmp[] {vacant, second},
                    Op.put(Etcd.bytes(keys.leader()), Etcd.bytes(Json.write(value)),
                            PutOption.builder().withLeaseId(id).build()),
                    Op.put(Etcd.bytes(keys.lastLeader()), Etcd.bytes(node.name()), PutOption.DEFAULT));
        } catch (RuntimeException e) {
            safeRevoke(id);
            throw e;
        }
        if (!r.isSucceeded()) {
            safeRevoke(id);
            return false;
        }
        long epoch = r.getHeader().getRevision();
        lease.hold(id, epoch, sent);
        leaderName = node.name();
        WriteHandover h = handover;
        if (h != null) {
            h.resume(); // a node that handed over once and leads again serves its own requests
        }
        lastRefusal = null;
        LOG.info("election: node {} holds the leader key, epoch {}", node.name(), epoch);
        return true;
    }

    private void safeRevoke(long id) {
        try {
            etcd.revoke(id, 1000);
        } catch (RuntimeException e) {
            // lapses with its TTL
        }
    }

    private void promote() {
        Promoter p = promoter;
        long t0 = System.nanoTime();
        try {
            p.promoteToLeader();
            LOG.info("election: node {} promoted itself to Leader in {} ms (epoch {})", node.name(),
                    (System.nanoTime() - t0) / 1_000_000, lease.epoch());
        } catch (RuntimeException e) {
            LOG.error("election: node {} took the leader key but could not promote: {}; releasing the key",
                    node.name(), e.getMessage());
            lease.release(true);
        }
    }

    /** A Standby streams from the Leader the key names; re-pointed once per epoch when it does not. */
    private volatile boolean rejoining;
    private volatile long lastRejoinNanos;

    private void follow(long epoch, Map<String, Object> leader) {
        ReplicationStrategy rs = replication;
        Object pg = leader.get("postgres");
        if (rs == null || pg == null || node.name().equals(leader.get("name")) || epoch == rebasedForEpoch) {
            return;
        }
        Object upstream = rs.status().get("upstream");
        String target = pg.toString();
        if (target.equals(upstream)) {
            rebasedForEpoch = epoch;
            return;
        }
        int colon = target.lastIndexOf(':');
        if (colon < 1) {
            return;
        }
        try {
            rs.rebase(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
            rebasedForEpoch = epoch;
            LOG.info("election: node {} re-pointed at Leader {} ({})", node.name(), leader.get("name"), target);
        } catch (RuntimeException e) {
            LOG.warn("election: re-pointing at Leader {} failed: {}", leader.get("name"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------ Leadership

    @Override
    public long epoch() {
        return lease.epoch();
    }

    @Override
    public boolean holdsLeadership() {
        return lease.holds();
    }

    @Override
    public Optional<String> leader() {
        return Optional.ofNullable(leaderName);
    }

    @Override
    public Map<String, Map<String, Object>> members() {
        return members;
    }

    private volatile String recordedByMe;
    private volatile long recordedInEpoch;

    @Override
    public boolean recordSynchronous(String applicationName) {
        if (!lease.holds()) {
            return false;
        }
        long epoch = lease.epoch();
        if (applicationName.equals(recordedByMe) && recordedInEpoch == epoch && applicationName.equals(recordedSync)) {
            return true;
        }
        try {
            TxnResponse r = etcd.txn(new Cmp[] {new Cmp(Etcd.bytes(keys.leader()), Cmp.Op.EQUAL,
                    CmpTarget.createRevision(epoch))},
                    Op.put(Etcd.bytes(keys.sync()), Etcd.bytes(applicationName), PutOption.DEFAULT));
            if (r.isSucceeded()) {
                if (!applicationName.equals(recordedSync)) {
                    LOG.info("election: recorded {} as the synchronous Standby (epoch {})", applicationName, epoch);
                }
                recordedByMe = applicationName;
                recordedInEpoch = epoch;
                recordedSync = applicationName;
                return true;
            }
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------ Switchover

    /** The Leader this node handed over to while its database stays stopped: {@link #act} rejoins it. */
    private volatile Map<String, Object> handedOver;
    /** Set while this Leader hands over: {@link #act} leaves the released key and the demotion to the handover. */
    private volatile String handingOverTo;
    /** While true, /health/leader stays 200 without the key: the relay still serves what the balancer sends. */
    private volatile boolean keepRoute;
    private final Object switching = new Object();
    /** Writes admitted before the hold must finish within this. */
    static final long DRAIN_MILLIS = 2000;
    /** The Standby must have replayed the last write within this. */
    static final long CATCH_UP_MILLIS = 3000;
    /** After the new Leader answers, how long this node still answers /health/leader: the balancer checks every
     * 500 ms and routes after one good answer, so by then it has found the new Leader (no gap with no server). */
    static final long ROUTE_GRACE_MILLIS = 1500;
    /** The relay ends once nothing came for this long (each relayed answer closes its connection)... */
    static final long QUIET_MILLIS = 2000;
    /** ...or after this at most. */
    static final long DRAIN_RELAY_MILLIS = 15_000;

    @Override
    public Map<String, Object> switchover(String requested, long timeoutMillis) {
        synchronized (switching) {
            long t0 = System.nanoTime();
            String target = requested == null || requested.isBlank() ? syncStandbyName() : requested.trim();
            Map<String, Object> member = refusal(target);
            String[] api = hostPort(member.get("api"), "api");
            String[] healthAt = hostPort(member.get("health"), "health");
            WriteHandover h = handover;
            long fromEpoch = lease.epoch();
            h.prepare(api[0], Integer.parseInt(api[1]));
            long holdStart = System.nanoTime();
            if (!h.hold(DRAIN_MILLIS)) {
                h.resume();
                throw new IllegalStateException("writes still running after " + DRAIN_MILLIS + " ms; nothing changed, "
                        + node.name() + " still leads");
            }
            try {
                awaitCatchUp(Candidate.applicationName(target));
            } catch (RuntimeException e) {
                h.resume();
                throw e;
            }
            // The database stops before the key goes (as Patroni does): its walsenders hand every connected Standby
            // the last WAL first, so the new Leader and the others end at the same point and none must rewind
            // (an asynchronous Standby that received WAL the new Leader lacks would stall its first commits).
            h.holdAll();
            ReplicationStrategy rs = replication;
            try {
                if (rs == null) {
                    throw new IllegalStateException("the replication service is not running");
                }
                dbStopped = true;
                rs.quiesce();
            } catch (RuntimeException e) {
                dbStopped = false;
                h.resume();
                throw new IllegalStateException("the database could not be stopped for the handover ("
                        + e.getMessage() + "); " + node.name() + " still leads", e);
            }
            handingOverTo = target;
            handedOver = Map.of("name", target, "postgres", String.valueOf(member.get("postgres")));
            keepRoute = true;
            try {
                // Released on the election thread: a tick can't retake it in between (act() sees handingOverTo).
                loop.submit(() -> lease.release(true)).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                keepRoute = false;
                handingOverTo = null;
                handedOver = null;
                dbStopped = false;
                rs.resumeAfterQuiesce();
                h.resume();
                throw new IllegalStateException("the leader key could not be released (" + e.getMessage() + "); "
                        + "the database starts again and the cluster goes on as after a failure if the lease lapses",
                        e);
            }
            LOG.info("switchover: node {} released the leadership (epoch {}) for {}", node.name(), fromEpoch, target);
            if (!awaitLeader(healthAt[0], Integer.parseInt(healthAt[1]), timeoutMillis)) {
                // The key can't be taken back (the Standby's txn named it the last Leader, or will): this node
                // stops here as any replaced Leader does; held writes meet the leader gate (503 not_leader).
                keepRoute = false;
                handingOverTo = null;
                String holder = etcd.get(keys.leader()).map(kv -> String.valueOf(safeRead(Etcd.text(kv.getValue()))
                        .get("name"))).orElse(null);
                if (holder == null || holder.equals(node.name())) {
                    handedOver = null;
                    dbStopped = false;
                    rs.resumeAfterQuiesce(); // nobody took over: this node's database starts again as it was
                }
                h.resume();
                loop.execute(this::tick);
                throw new IllegalStateException(target + " did not answer as Leader within " + timeoutMillis
                        + " ms; " + node.name() + " no longer holds the leadership: the cluster elects as after a "
                        + "failure");
            }
            h.forward();
            long pause = (System.nanoTime() - holdStart) / 1_000_000;
            LOG.info("switchover: {} leads; writes were held {} ms; node {} relays to it while the balancer moves",
                    target, pause, node.name());
            sleep(ROUTE_GRACE_MILLIS);
            keepRoute = false;
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_RELAY_MILLIS);
            while (System.nanoTime() < until && (h.forwarding() > 0
                    || System.nanoTime() - Math.max(h.lastForwardNanos(), holdStart) < QUIET_MILLIS * 1_000_000L)) {
                sleep(100);
            }
            Promoter p = promoter;
            try {
                if (p != null) {
                    p.demoteToStandby();
                }
            } catch (RuntimeException e) {
                LOG.warn("switchover: node {} could not demote itself: {}", node.name(), e.getMessage());
            }
            h.resume();
            handingOverTo = null;
            loop.execute(this::tick); // now a replaced Leader: it rejoins as a Standby (its database is stopped)
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("from", node.name());
            out.put("to", target);
            out.put("from_epoch", fromEpoch);
            out.put("write_pause_ms", pause);
            out.put("total_ms", (System.nanoTime() - t0) / 1_000_000);
            LOG.info("switchover: done {}", out);
            return out;
        }
    }

    private String syncStandbyName() {
        String sync = recordedSync;
        return members.keySet().stream().filter(n -> Candidate.applicationName(n).equals(sync)).findFirst()
                .orElseThrow(() -> new IllegalStateException("etcd records no synchronous Standby among the members "
                        + "(" + sync + "): nobody can take over without losing a write"));
    }

    /** @return the target's member record when the move is safe; throws saying why not */
    private Map<String, Object> refusal(String target) {
        if (!lease.holds() || handingOverTo != null) {
            throw new IllegalStateException("node " + node.name() + " does not hold the leadership"
                    + leader().filter(n -> !n.equals(node.name())).map(n -> " (" + n + " does)").orElse("")
                    + ": run the switchover on the Leader");
        }
        if (target.equals(node.name())) {
            throw new IllegalStateException("node " + target + " already leads");
        }
        Map<String, Object> m = members.get(target);
        if (m == null) {
            throw new IllegalStateException("no member named " + target + " in the cluster (members: "
                    + members.keySet() + ")");
        }
        if (!Candidate.applicationName(target).equals(recordedSync)) {
            throw new IllegalStateException(target + " is not the synchronous Standby etcd records ("
                    + recordedSync + "): only that one holds every acknowledged write; switch over to it");
        }
        if (!"standby".equals(m.get("role")) || !Boolean.TRUE.equals(m.get("healthy"))
                || !Boolean.TRUE.equals(m.get("in_recovery"))) {
            throw new IllegalStateException(target + " is not a healthy streaming Standby (" + m + ")");
        }
        if (!Boolean.TRUE.equals(m.get("keys_unlocked"))) {
            throw new IllegalStateException(target + " has its keys locked: a locked node never leads");
        }
        if (handover == null || promoter == null) {
            throw new IllegalStateException("node " + node.name() + " lacks the REST handover or the promoter");
        }
        return m;
    }

    private static String[] hostPort(Object value, String what) {
        String v = value == null ? "" : value.toString();
        int colon = v.lastIndexOf(':');
        if (colon < 1 || !v.substring(colon + 1).matches("[0-9]{1,5}")) {
            throw new IllegalStateException("the target publishes no " + what + " address (its election "
                    + "configuration lacks advertise." + what + ")");
        }
        return new String[] {v.substring(0, colon), v.substring(colon + 1)};
    }

    /** Waits until the Standby has replayed everything this Leader wrote (the held writes can't add more). */
    private void awaitCatchUp(String applicationName) {
        Database db = database;
        if (db == null) {
            throw new IllegalStateException("the database is not available here");
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CATCH_UP_MILLIS);
        try (Connection c = db.dataSource().getConnection()) {
            String lsn;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()")) {
                rs.next();
                lsn = rs.getString(1);
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT replay_lsn >= ?::pg_lsn FROM "
                    + "pg_stat_replication WHERE application_name = ?")) {
                ps.setString(1, lsn);
                ps.setString(2, applicationName);
                while (true) {
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && rs.getBoolean(1)) {
                            return;
                        }
                    }
                    if (System.nanoTime() > until) {
                        throw new IllegalStateException(applicationName + " had not replayed " + lsn + " after "
                                + CATCH_UP_MILLIS + " ms; nothing changed, writes resume");
                    }
                    sleep(20);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the Standby's position: " + e.getMessage(), e);
        }
    }

    /** Polls the new Leader's /health/leader on its health port. */
    private static boolean awaitLeader(String host, int port, long timeoutMillis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < until) {
            try {
                java.net.HttpURLConnection c = (java.net.HttpURLConnection) new java.net.URL("http", host, port,
                        "/health/leader").openConnection();
                c.setConnectTimeout(500);
                c.setReadTimeout(1000);
                int code = c.getResponseCode();
                c.disconnect();
                if (code == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not up yet
            }
            sleep(20);
        }
        return false;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------ HealthCheck

    @Override
    public String name() {
        return "election";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean holds = lease.holds();
        m.put("holds_leadership", holds);
        // The load balancer keeps routing here while a switchover still relays (architecture 76).
        m.put("routes_here", holds || keepRoute);
        m.put("leader", leaderName);
        m.put("epoch", lease.epoch());
        m.put("synchronous_standby", recordedSync);
        m.put("members", members.keySet());
        m.put("etcd_leader", etcdLeader);
        m.put("lease_renewals", lease.renewals());
        m.put("lease_renewal_failures", lease.renewalFailures());
        long sinceContact = (System.nanoTime() - lastContactNanos) / 1_000_000;
        boolean reachable = error == null && lastContactNanos != 0 && sinceContact < 3 * ttl * 1000;
        m.put("etcd", reachable ? "reachable" : "unreachable: " + error);
        return reachable || holds ? ComponentHealth.ok(m) : ComponentHealth.failed(m);
    }
}
