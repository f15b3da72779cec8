package io.coffer.postgres.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Rejoin;

/**
 * Starts the node's PostgreSQL with the node and stops it with the node. Start-up runs off the activation thread so
 * Karaf's boot never waits on initdb; the pooled {@link DataSource} (property {@code coffer.db=main}) is registered
 * only once the database accepts connections, so everything that needs it simply waits for the service. A monitor
 * restarts a postmaster that died under a running node, as Patroni does.
 */
@Component(service = {HealthCheck.class, Rejoin.class}, configurationPid = ManagedPostgres.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = ManagedPostgres.Config.class)
public class ManagedPostgres implements HealthCheck, Rejoin {
    public static final String PID = "io.coffer.postgres";
    private static final Logger LOG = LoggerFactory.getLogger(ManagedPostgres.class);

    @ObjectClassDefinition(name = "Coffer PostgreSQL", description = "The node's own managed PostgreSQL 15")
    public @interface Config {
        @AttributeDefinition(description = "Folder of pg_ctl/initdb; empty = find PostgreSQL 15 (Debian's first)")
        String bin_dir() default "";

        @AttributeDefinition(description = "Folder holding data/, run/ and log/; empty = ${karaf.base}/pg")
        String root_dir() default "";

        @AttributeDefinition(description = "Folder of the node's generated database passwords; empty = ${karaf.base}/secrets")
        String secrets_dir() default "";

        @AttributeDefinition(description = "Address PostgreSQL listens on (the pool connects here)")
        String host() default "127.0.0.1";

        @AttributeDefinition(description = "PostgreSQL port; away from 5432 where a system PostgreSQL may run")
        int port() default 5433;

        @AttributeDefinition(description = "OS user PostgreSQL runs as when the node runs as root")
        String os_user() default "postgres";

        @AttributeDefinition(description = "Database and role the node uses")
        String database() default "coffer";

        @AttributeDefinition(description = "Connections in the node's pool")
        int pool_size() default 16;

        @AttributeDefinition(description = "Seconds to wait for PostgreSQL to start")
        int start_timeout_seconds() default 90;

        @AttributeDefinition(description = "Replicas: host of the upstream PostgreSQL (the Leader, or the cluster "
                + "load balancer's replication frontend); empty on a Leader")
        String upstream_host() default "";

        @AttributeDefinition(description = "Replicas: port of the upstream PostgreSQL; 0 on a Leader")
        int upstream_port() default 0;

        @AttributeDefinition(description = "Replicas: the name the Leader sees this replica by, <role>_<node> "
                + "(what synchronous_standby_names matches)")
        String application_name() default "";

        @AttributeDefinition(description = "The node's PKCS#12 keystore (certificate from the cluster CA): replication "
                + "authenticates with it (hostssl … cert); empty = ${karaf.base}/etc/tls/node.p12; when absent, "
                + "replication falls back to the replication role's password over loopback")
        String tls_keystore() default "";

        @AttributeDefinition(description = "File holding the keystore's password; empty = <secrets>/tls.password")
        String tls_password_file() default "";

        @AttributeDefinition(description = "The cluster CA (PEM); empty = ${karaf.base}/etc/tls/ca.pem")
        String tls_ca() default "";
    }

    private final BundleContext context;
    private final Config config;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-postgres");
        t.setDaemon(true);
        return t;
    });
    private volatile PgCluster cluster;
    private volatile String state = "starting";
    private volatile String error;
    private volatile HikariDataSource pool;
    private volatile ServiceRegistration<DataSource> registration;
    private volatile boolean stopping;

    @Activate
    public ManagedPostgres(BundleContext context, Config config) {
        this.context = context;
        this.config = config;
        executor.execute(this::bringUp);
    }

    private void bringUp() {
        try {
            String base = System.getProperty("karaf.base", ".");
            Path root = config.root_dir().isBlank() ? Paths.get(base, "pg") : Paths.get(config.root_dir());
            Path secrets = config.secrets_dir().isBlank() ? Paths.get(base, "secrets") : Paths.get(config.secrets_dir());
            PgCluster c = new PgCluster(PgCluster.findBinaries(config.bin_dir()), root.toAbsolutePath(),
                    secrets.toAbsolutePath(), config.host(), config.port(),
                    OsCommand.nodeRunsAsRoot() ? config.os_user() : null);
            PgCluster.ident(config.database());
            cluster = c;
            c.prepareFolders();
            installTls(c, base, secrets);
            if (!c.initialised()) {
                if (config.upstream_port() > 0) {
                    // A replica's database is a copy of the Leader's: seeded by base backup, never initdb'd.
                    state = "seeding";
                    c.baseBackup(config.upstream_host().isBlank() ? "127.0.0.1" : config.upstream_host(),
                            config.upstream_port(), config.application_name());
                } else {
                    state = "initialising";
                    c.initdb();
                }
            }
            c.writeAccessRules();
            state = "starting";
            c.startOrAdopt(Duration.ofSeconds(config.start_timeout_seconds()));
            if (!c.replica()) {
                c.ensureAppDatabase(config.database(), config.database());
                c.ensureReplicationRole(config.database(), config.database());
            }
            openPool(c);
            state = "running";
            error = null;
            executor.scheduleWithFixedDelay(this::monitor, 2, 2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            state = "failed";
            error = e.getMessage();
            LOG.error("PostgreSQL could not be brought up: {}", e.getMessage(), e);
        }
    }

    private void installTls(PgCluster c, String base, Path secrets) throws Exception {
        Path keystore = config.tls_keystore().isBlank() ? Paths.get(base, "etc", "tls", "node.p12")
                : Paths.get(config.tls_keystore());
        Path pwFile = config.tls_password_file().isBlank() ? secrets.resolve("tls.password")
                : Paths.get(config.tls_password_file());
        Path ca = config.tls_ca().isBlank() ? Paths.get(base, "etc", "tls", "ca.pem") : Paths.get(config.tls_ca());
        if (!Files.isReadable(keystore) || !Files.isReadable(pwFile) || !Files.isReadable(ca)) {
            LOG.warn("no node certificate ({}): replication authenticates by password over loopback", keystore);
            return;
        }
        char[] pw = Files.readString(pwFile, StandardCharsets.UTF_8).trim().toCharArray();
        try {
            c.installTls(keystore, pw, ca);
        } finally {
            java.util.Arrays.fill(pw, '\0');
        }
    }

    private void openPool(PgCluster c) throws java.io.IOException {
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(c.dataSource(config.database(), config.database()));
        hc.setPoolName("coffer-" + config.database());
        hc.setMaximumPoolSize(config.pool_size());
        hc.setMinimumIdle(2);
        hc.setConnectionTimeout(5000);
        hc.setValidationTimeout(2000);
        // Let the pool come up even if the database blips; connections are made lazily.
        hc.setInitializationFailTimeout(-1);
        pool = new HikariDataSource(hc);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("coffer.db", "main");
        props.put("osgi.jndi.service.name", "coffer");
        registration = context.registerService(DataSource.class, pool, props);
        LOG.info("PostgreSQL ready on {}:{}, database {}", config.host(), config.port(), config.database());
    }

    /**
     * On the node's PostgreSQL thread, so the watchdog ({@link #monitor}) can't restart the database mid-rewind.
     */
    @Override
    public String rejoin(String host, int upstreamPort, String applicationName) {
        if (host == null || !host.matches("[A-Za-z0-9.:-]{1,253}") || upstreamPort < 1 || upstreamPort > 65535
                || applicationName == null || !applicationName.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("rejoin needs host, port and application name");
        }
        java.util.concurrent.Future<String> f = executor.submit(() -> rejoinNow(host, upstreamPort, applicationName));
        try {
            return f.get(35, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while rejoining");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("rejoin from " + host + ":" + upstreamPort + " failed: "
                    + cause.getMessage(), cause);
        }
    }

    @Override
    public void quiesce() {
        java.util.concurrent.Future<?> f = executor.submit(() -> {
            PgCluster c = cluster;
            if (c == null || !"running".equals(state)) {
                throw new IllegalStateException("PostgreSQL is " + state + ", not running");
            }
            state = "handed-over";
            try {
                c.stop(Duration.ofSeconds(10));
            } catch (Exception e) {
                state = "failed"; // the watchdog starts it again as it was
                throw e;
            }
            LOG.warn("stopped PostgreSQL for a switchover: every connected Standby has its last WAL; it stays "
                    + "stopped until it rejoins the new Leader");
            return null;
        });
        try {
            f.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping PostgreSQL for a switchover");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("PostgreSQL did not stop for the switchover: " + cause.getMessage(), cause);
        }
    }

    @Override
    public void resumeAfterQuiesce() {
        executor.execute(() -> {
            if ("handed-over".equals(state)) {
                state = "failed"; // the watchdog starts it again as it was
            }
        });
    }

    private String rejoinNow(String host, int upstreamPort, String applicationName) throws Exception {
        PgCluster c = cluster;
        if (c == null || !"running".equals(state) && !"failed".equals(state) && !"handed-over".equals(state)) {
            throw new IllegalStateException("PostgreSQL is " + state + ", not ready to rejoin");
        }
        state = "rejoining";
        LOG.warn("rejoining {}:{} as {}: stopping PostgreSQL to rewind it", host, upstreamPort, applicationName);
        c.stopForRewind(Duration.ofSeconds(10));
        String how = "rewound";
        if (!c.rewind(host, upstreamPort, applicationName)) {
            how = "reseeded";
            Path aside = c.setDataAside();
            try {
                c.baseBackup(host, upstreamPort, applicationName);
            } catch (Exception e) {
                c.restoreOrDrop(aside, true);
                c.writeAccessRules();
                c.startOrAdopt(Duration.ofSeconds(config.start_timeout_seconds()));
                state = "running";
                throw e;
            }
            c.restoreOrDrop(aside, false);
        }
        c.writeAccessRules();
        c.startOrAdopt(Duration.ofSeconds(config.start_timeout_seconds()));
        HikariDataSource p = pool;
        if (p != null) {
            // Connections to the stopped server are dead; new ones see the replica.
            p.getHikariPoolMXBean().softEvictConnections();
        }
        state = "running";
        error = null;
        LOG.warn("rejoined: {} from {}:{}, streaming as {}", how, host, upstreamPort, applicationName);
        return how;
    }

    /** Restarts a postmaster that died while the node runs (killed, OOM); the pool reconnects by itself. */
    private void monitor() {
        PgCluster c = cluster;
        if (stopping || c == null || "handed-over".equals(state)) {
            return; // stopped on purpose by a switchover: the rejoin starts it
        }
        if (c.livePostmaster().isPresent()) {
            rejoinIfDiverged(c);
            return;
        }
        LOG.warn("PostgreSQL is not running; restarting it");
        state = "restarting";
        try {
            c.startOrAdopt(Duration.ofSeconds(config.start_timeout_seconds()));
            state = "running";
            error = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            error = e.getMessage();
            LOG.error("PostgreSQL restart failed: {}", e.getMessage());
        }
    }

    private long logScanned = -1;
    private long lastSelfRejoin;

    /**
     * A replica whose upstream's history doesn't contain its own (it received WAL the new Leader never had) says so
     * in its log and never streams again: it rewinds by itself, whatever its role (a Follower or DR Standby behind
     * the load balancer has no election to tell it). At most once a minute.
     */
    private void rejoinIfDiverged(PgCluster c) {
        if (!c.replica() || !"running".equals(state)) {
            return;
        }
        String fresh;
        try {
            long[] scanned = {logScanned};
            fresh = c.logSince(scanned);
            logScanned = scanned[0];
        } catch (java.io.IOException e) {
            return;
        }
        if (!PgCluster.DIVERGED.matcher(fresh).find() || System.nanoTime() - lastSelfRejoin < 60_000_000_000L
                && lastSelfRejoin != 0) {
            return;
        }
        lastSelfRejoin = System.nanoTime();
        try {
            String[] upstream = c.pointedAt();
            if (upstream == null) {
                return;
            }
            LOG.warn("this replica's timeline diverged from its upstream {}:{}: rewinding it", upstream[0], upstream[1]);
            rejoinNow(upstream[0], Integer.parseInt(upstream[1]), upstream[2]);
        } catch (Exception e) {
            LOG.warn("the diverged replica could not rejoin yet: {}", e.getMessage());
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        stopping = true;
        executor.shutdownNow();
        executor.awaitTermination(config.start_timeout_seconds(), TimeUnit.SECONDS);
        ServiceRegistration<DataSource> reg = registration;
        if (reg != null) {
            try {
                reg.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregistered it while stopping the bundle
            }
        }
        if (pool != null) {
            pool.close();
        }
        PgCluster c = cluster;
        if (c != null) {
            try {
                c.stop(Duration.ofSeconds(60));
            } catch (Exception e) {
                LOG.error("PostgreSQL did not stop cleanly: {}", e.getMessage());
            }
        }
    }

    @Override
    public String name() {
        return "database";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("state", state);
        d.put("port", config.port());
        HikariDataSource p = pool;
        if (!"running".equals(state) || p == null) {
            if (error != null) {
                d.put("error", error);
            }
            return ComponentHealth.failed(d);
        }
        try (Connection c = p.getConnection(); Statement st = c.createStatement()) {
            st.setQueryTimeout(2);
            try (ResultSet rs = st.executeQuery("SELECT current_setting('server_version'), pg_is_in_recovery()")) {
                rs.next();
                d.put("version", rs.getString(1));
                d.put("in_recovery", rs.getBoolean(2));
            }
            return ComponentHealth.ok(d);
        } catch (Exception e) {
            d.put("error", e.getMessage());
            return ComponentHealth.failed(d);
        }
    }
}
