package io.coffer.store.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Database;

/**
 * Brings the schema to the version this bundle ships, as soon as the node's database is available. Migrations are
 * versioned SQL files under {@code db/migration}; a failed one leaves the node unhealthy with the reason in
 * {@code /health}, never half-applied (PostgreSQL runs each migration in a transaction). The {@link Database}
 * service appears only once the schema is current; its connections bound how long a write's commit is waited for
 * ({@link BoundedCommits}).
 */
@Component(service = HealthCheck.class, immediate = true, configurationPid = "io.coffer.store",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = SchemaMigrator.Config.class)
public class SchemaMigrator implements HealthCheck {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

    @ObjectClassDefinition(name = "Coffer store", description = "Schema and commits")
    public @interface Config {
        @AttributeDefinition(description = "Milliseconds a write's answer waits for its commit (on the Leader: until "
                + "the synchronous Standby flushed it) before it is answered 503 outcome_unknown with its write id; "
                + "the commit itself goes on")
        long commit_wait_ms() default 10_000;
    }

    private final DataSource dataSource;
    private final BoundedCommits commits;
    private volatile long commitWaitMs;
    private volatile String version;
    private volatile String error;
    private final BundleContext context;
    private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffer-schema");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean replica;
    private ServiceRegistration<Database> registration;

    @Activate
    public SchemaMigrator(@Reference(target = "(coffer.db=main)") DataSource dataSource, BundleContext context,
            Config config) {
        this.dataSource = dataSource;
        this.context = context;
        modified(config);
        this.commits = new BoundedCommits(dataSource, () -> commitWaitMs);
        migrate();
        if (error == null) {
            publish();
        } else if (replica) {
            // A replica can't migrate: it waits for the Leader's migrations to arrive by replication.
            retry.scheduleWithFixedDelay(() -> {
                if (registration == null) {
                    migrate();
                    if (error == null) {
                        publish();
                        retry.shutdown();
                    }
                }
            }, 2, 2, TimeUnit.SECONDS);
        }
    }

    /** Tests: the default configuration. */
    SchemaMigrator(DataSource dataSource, BundleContext context) {
        this(dataSource, context, null);
    }

    @Modified
    void modified(Config config) {
        commitWaitMs = config == null ? 10_000 : Math.max(100, config.commit_wait_ms());
    }

    private synchronized void publish() {
        if (context == null || registration != null) {
            return;
        }
        String v = version;
        registration = context.registerService(Database.class, new Database() {
            public DataSource dataSource() {
                return commits.dataSource();
            }

            public String schemaVersion() {
                return v;
            }

            public boolean commitWaiting(java.util.UUID writeId) {
                return commits.waiting(writeId);
            }
        }, null);
    }

    @Deactivate
    synchronized void deactivate() {
        retry.shutdownNow();
        commits.close();
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // unregistered by the framework while the bundle stops
            }
        }
    }

    void migrate() {
        try {
            replica = inRecovery();
            if (replica) {
                // Read-only: the schema must already be the one this bundle ships, replicated from the Leader.
                MigrationInfo[] pending = flyway().info().pending();
                MigrationInfo current = flyway().info().current();
                version = current == null ? "0" : current.getVersion().getVersion();
                if (pending.length > 0) {
                    error = "replica schema at version " + version + ", waiting for the Leader's migrations";
                    return;
                }
                error = null;
                LOG.info("schema at version {} (replica: replicated from the Leader)", version);
                return;
            }
            MigrateResult r = flyway().migrate();
            MigrationInfo current = flyway().info().current();
            version = current == null ? "0" : current.getVersion().getVersion();
            error = null;
            LOG.info("schema at version {} ({} migrations applied now)", version, r.migrationsExecuted);
        } catch (RuntimeException | SQLException e) {
            error = e.getMessage();
            LOG.error("schema migration failed: {}", e.getMessage(), e);
        }
    }

    private boolean inRecovery() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private Flyway flyway() {
        return Flyway.configure(SchemaMigrator.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .table("schema_history")
                .validateOnMigrate(true)
                .load();
    }

    @Override
    public String name() {
        return "schema";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        if (error != null || version == null) {
            d.put("error", error != null ? error : "not migrated");
            return ComponentHealth.failed(d);
        }
        d.put("version", version);
        int waiting = commits.waiting();
        if (waiting > 0) {
            // Writes answered outcome_unknown whose commits still wait for the synchronous Standby.
            d.put("commits_waiting", waiting);
        }
        return ComponentHealth.ok(d);
    }
}
