package io.coffer.replication.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeIdentity;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.replication.ReplicationStrategy;
import io.coffer.api.store.Database;

/**
 * This node's part in replication, decided each second from its database: writable → {@link Primary} (heartbeat,
 * one synchronous Standby), in recovery → {@link Replica} (upstream, lag). The health check reports the last tick,
 * so {@code /health} never waits on a query; a replica cut off from its upstream stays healthy (degraded) and
 * keeps serving reads.
 */
@Component(service = {ReplicationStrategy.class, HealthCheck.class}, configurationPid = Replication.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = Replication.Config.class)
public class Replication implements ReplicationStrategy, HealthCheck {
    static final String PID = "io.coffer.replication";
    private static final Logger LOG = LoggerFactory.getLogger(Replication.class);

    @ObjectClassDefinition(name = "Coffer replication", description = "Heartbeat, synchronous Standby, promotion")
    public @interface Config {
        @AttributeDefinition(description = "Leader: keep one Standby synchronous (a commit waits for it)")
        boolean synchronous() default true;

        @AttributeDefinition(description = "Leader: when the synchronous Standby has been gone this many seconds, "
                + "name another Standby that holds everything the gone one had flushed; 0 = never (writes wait "
                + "until it returns or an operator names another)")
        int replace_after_seconds() default 0;

        @AttributeDefinition(description = "Replicas: seconds promote waits for the database to leave recovery")
        int promote_timeout_seconds() default 60;
    }

    private final Database db;
    private final NodeIdentity node;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-replication");
        t.setDaemon(true);
        return t;
    });
    private final Primary primary;
    private final Replica replica;
    private volatile Config config;
    private volatile boolean inRecovery;
    private volatile Map<String, Object> status = Map.of("state", "starting");
    private volatile String error;
    /** Present in an auto-failover cluster: the synchronous Standby is recorded there before it is named. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.election.Leadership leadership;
    /** The postgres bundle's: a database that is not a replica (a replaced Leader) rejoins through it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.store.Rejoin rejoin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.store.Changes changes;

    @Activate
    public Replication(@Reference Database db, @Reference NodeIdentity node, Config config) {
        this.db = db;
        this.node = node;
        this.config = config;
        this.primary = new Primary(node);
        this.replica = new Replica();
        timer.scheduleWithFixedDelay(this::tick, 0, 1, TimeUnit.SECONDS);
    }

    @Modified
    void modified(Config config) {
        this.config = config;
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    void tick() {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(5);
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                inRecovery = rs.getBoolean(1);
            }
            Map<String, Object> s = inRecovery ? replica.tick(c) : primary.tick(c, config, leadership);
            status = s;
            error = null;
        } catch (SQLException | RuntimeException e) {
            error = e.getMessage();
        }
    }

    @Override
    public String mode() {
        return inRecovery ? "replica" : "primary";
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", mode());
        m.putAll(status);
        if (error != null) {
            m.put("error", error);
        }
        return m;
    }

    @Override
    public void promote() {
        if (!inRecovery) {
            throw new IllegalStateException("this node's database is not a replica: nothing to promote");
        }
        int timeout = Math.max(1, config.promote_timeout_seconds());
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            // Not pg_promote's own wait, which looks every 100 ms: the failover time is counted in these.
            st.execute("SELECT pg_promote(false)");
            long until = System.nanoTime() + timeout * 1_000_000_000L;
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        break;
                    }
                }
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("PostgreSQL did not leave recovery within " + timeout + " s");
                }
                Thread.sleep(10);
            }
            checkpointSoon();
            // The copy may carry the old Leader's choice of synchronous Standby (a file, not replicated state);
            // start clean: the first Standby that streams from this node is named again. In an auto-failover
            // cluster commits wait meanwhile (Primary.PENDING): acknowledged, a write is on two nodes from the first.
            // Elsewhere (a manual promotion, perhaps with no other Standby yet) they go on alone until one streams.
            boolean wait = config.synchronous() && leadership != null;
            st.execute("ALTER SYSTEM SET synchronous_standby_names = '" + (wait ? "FIRST 1 (\"" + Primary.PENDING
                    + "\")" : "") + "'");
            st.execute("SELECT pg_reload_conf()");
            inRecovery = false;
            LOG.info("promoted node {}: its database is writable on a new timeline", node.name());
            if (wait) {
                tickUntilNamed(System.nanoTime() + 10_000_000_000L);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("promotion failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("promotion interrupted", e);
        }
        // The status as a primary on the timer, not here: naming the synchronous Standby records it in etcd first
        // (~0.3 s on a busy machine), and the node's role waits for this method. Commits wait for the name anyway.
        timer.execute(this::tick);
    }

    /**
     * While a fresh Leader's commits wait for its first Standby, that one is named as soon as it streams: every 100 ms
     * instead of every second (for 10 s at most; then the usual tick goes on).
     */
    private void tickUntilNamed(long until) {
        timer.schedule(() -> {
            tick();
            Object named = status.get("synchronous_standby");
            if ((named == null || Primary.PENDING.equals(named)) && !inRecovery && System.nanoTime() < until) {
                tickUntilNamed(until);
            }
        }, 100, TimeUnit.MILLISECONDS);
    }

    /**
     * A CHECKPOINT records the new timeline in the control file, so pg_rewind against this node sees the divergence.
     * Promotion already requested one; this waits for it off the failover's path (a replaced Leader rejoins seconds
     * later at the earliest: it is restarted, or demoted after its relay or lease).
     */
    private void checkpointSoon() {
        Thread t = new Thread(() -> {
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                st.execute("CHECKPOINT");
            } catch (SQLException e) {
                LOG.warn("the checkpoint after promotion failed ({}); the next one records the new timeline",
                        e.getMessage());
            }
        }, "coffer-promotion-checkpoint");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void rebase(String host, int port) {
        if (!host.matches("[A-Za-z0-9.:-]{1,253}") || port < 1 || port > 65535) {
            throw new IllegalArgumentException("upstream must be host:port");
        }
        if (!inRecovery) {
            rejoin(host, port);
            return;
        }
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            String current;
            try (ResultSet rs = st.executeQuery("SELECT current_setting('primary_conninfo')")) {
                rs.next();
                current = rs.getString(1);
            }
            String conninfo = repointed(current, host, port);
            st.execute("ALTER SYSTEM SET primary_conninfo = '" + conninfo + "'");
            st.execute("SELECT pg_reload_conf()");
            LOG.info("node {} re-pointed at {}:{}", node.name(), host, port);
        } catch (SQLException e) {
            throw new IllegalStateException("re-pointing failed: " + e.getMessage(), e);
        }
    }

    /**
     * A database that is not a replica becomes one: a Leader that was replaced (demoted, or restarted after a
     * failover) is rewound onto the new Leader's timeline, losing only what no client was told succeeded. Never while
     * this node's role is {@code leader}: demotion comes first (election does it; by hand, stop the node's writes).
     * A replica whose timeline diverged from the upstream's rejoins the same way.
     */
    @Override
    public void quiesce() {
        io.coffer.api.store.Rejoin r = rejoin;
        if (r == null || inRecovery) {
            throw new IllegalStateException("this node's database is not a Leader's managed database");
        }
        r.quiesce();
    }

    @Override
    public void resumeAfterQuiesce() {
        io.coffer.api.store.Rejoin r = rejoin;
        if (r != null) {
            r.resumeAfterQuiesce();
        }
    }

    @Override
    public void rejoin(String host, int port) {
        if (!host.matches("[A-Za-z0-9.:-]{1,253}") || port < 1 || port > 65535) {
            throw new IllegalArgumentException("upstream must be host:port");
        }
        if (node.role() == io.coffer.api.NodeRole.LEADER) {
            throw new IllegalStateException("node " + node.name() + " is the Leader: it can't rejoin "
                    + host + ":" + port + " as a replica until it is demoted");
        }
        io.coffer.api.store.Rejoin r = rejoin;
        if (r == null) {
            throw new IllegalStateException("this node's database is not a replica and can't be rewound here");
        }
        String how = r.rejoin(host, port, node.role().id().replace('-', '_') + "_" + node.name());
        // What this node served from its own unconfirmed tail may be gone: every cache starts again.
        io.coffer.api.store.Changes ch = changes;
        if (ch != null) {
            ch.invalidate();
        }
        tick();
        LOG.warn("node {} rejoined {}:{} as a replica ({})", node.name(), host, port, how);
    }

    /**
     * The same connection (certificate or password, application name) to another upstream. Only the keys Coffer
     * writes are carried, with values that need no quoting, so nothing read back can inject into the setting.
     */
    static String repointed(String current, String host, int port) {
        StringBuilder b = new StringBuilder("host=" + host + " port=" + port + " user=coffer_replication");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "(?<=^|\\s)(password|application_name|sslmode|sslrootcert|sslcert|sslkey)=([A-Za-z0-9_./-]+)(?=\\s|$)")
                .matcher(current);
        while (m.find()) {
            b.append(' ').append(m.group(1)).append('=').append(m.group(2));
        }
        return b.toString();
    }

    @Override
    public String name() {
        return "replication";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> m = status();
        // Degraded is still healthy: a replica without its upstream serves what it has (architecture §6).
        return error == null ? ComponentHealth.ok(m) : ComponentHealth.failed(m);
    }
}
