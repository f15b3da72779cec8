package io.coffer.authn.jwt.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.crypto.Sealer;
import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * What the database says about JWT services: each service's configuration (webservice, variables, enablement) and
 * each role's {@code authn-jwt/<service_id>/...} annotations, kept in memory until {@link Changes} moves, so a warm
 * authentication reads no table. Also whether a service is enabled by the {@code authenticators} key of
 * {@code io.coffer.authn} (Conjur's {@code CONJUR_AUTHENTICATORS}), and the write behind
 * {@code PATCH /authn-jwt/<service_id>/<account>}.
 */
@Component(service = JwtSettings.class, configurationPid = JwtSettings.AUTHN_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class JwtSettings {
    /** The built-in authenticator's PID, which holds the node's list of enabled authenticators. */
    static final String AUTHN_PID = "io.coffer.authn";
    private static final int LIMIT = 10_000;

    /** The {@code authenticators} key of {@code io.coffer.authn}, shared with the authn bundle. */
    public @interface Enabled {
        String authenticators() default "authn";
    }

    /** Everything computed under one change generation; replaced whole when the generation moves. */
    private static final class Snapshot {
        final long generation;
        final Map<String, ServiceConfig> services = new ConcurrentHashMap<>();
        final Map<String, Map<String, String>> annotations = new ConcurrentHashMap<>();

        Snapshot(long generation) {
            this.generation = generation;
        }
    }

    private final Database db;
    private final Sealer sealer;
    private final Changes changes;
    private final ChangeLog changeLog;
    private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(new Snapshot(Long.MIN_VALUE));
    private volatile Set<String> configured = Set.of();

    @Activate
    public JwtSettings(@Reference Database db, @Reference Sealer sealer, @Reference Changes changes,
            @Reference ChangeLog changeLog, Enabled config) {
        this.db = db;
        this.sealer = sealer;
        this.changes = changes;
        this.changeLog = changeLog;
        configure(config);
    }

    @Modified
    void configure(Enabled config) {
        Set<String> names = new java.util.HashSet<>();
        for (String name : config.authenticators().split(",")) {
            if (!name.isBlank()) {
                names.add(name.trim());
            }
        }
        configured = Collections.unmodifiableSet(names);
    }

    /** @return whether the node's configuration or the database enables {@code authn-jwt/<service_id>} */
    boolean enabled(ServiceConfig cfg) {
        return cfg.enabledInDb || configured.contains("authn-jwt/" + cfg.serviceId);
    }

    private Snapshot current() {
        long gen = changes.generation();
        Snapshot s = snapshot.get();
        if (s.generation != gen) {
            Snapshot fresh = new Snapshot(gen);
            snapshot.compareAndSet(s, fresh);
            s = snapshot.get();
        }
        return s;
    }

    /** Keeps a value only if nothing changed while it was read, so a cache never holds a pre-change answer. */
    private <V> void keep(Snapshot s, Map<String, V> map, String key, V value) {
        if (changes.generation() == s.generation) {
            if (map.size() >= LIMIT) {
                map.clear();
            }
            map.put(key, value);
        }
    }

    /**
     * @return the service's configuration in the account (the webservice may not exist: see {@code exists})
     * @throws SQLException when the database can't be read
     */
    ServiceConfig service(String account, String serviceId) throws SQLException {
        Snapshot s = current();
        String key = account + "\n" + serviceId;
        ServiceConfig cfg = s.services.get(key);
        if (cfg == null) {
            cfg = load(account, serviceId);
            keep(s, s.services, key, cfg);
        }
        return cfg;
    }

    /**
     * @return the role's annotations named {@code authn-jwt/<service_id>/<name>}, as name → value
     * @throws SQLException when the database can't be read
     */
    Map<String, String> restrictions(String roleId, String serviceId) throws SQLException {
        Snapshot s = current();
        String key = roleId + "\n" + serviceId;
        Map<String, String> found = s.annotations.get(key);
        if (found == null) {
            String prefix = "authn-jwt/" + serviceId + "/";
            Map<String, String> m = new TreeMap<>();
            try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT name, value FROM annotations WHERE resource_id = ? AND left(name, ?) = ?")) {
                ps.setString(1, roleId);
                ps.setInt(2, prefix.length());
                ps.setString(3, prefix);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getString(1).substring(prefix.length()), rs.getString(2));
                    }
                }
            }
            found = Collections.unmodifiableMap(m);
            keep(s, s.annotations, key, found);
        }
        return found;
    }

    private ServiceConfig load(String account, String serviceId) throws SQLException {
        String webservice = ServiceConfig.webserviceId(account, serviceId);
        try (Connection c = db.dataSource().getConnection()) {
            boolean exists;
            boolean enabled;
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce((SELECT enabled FROM authenticator_configs "
                    + "a WHERE a.resource_id = r.resource_id), false) FROM resources r WHERE r.resource_id = ?")) {
                ps.setString(1, webservice);
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                    enabled = exists && rs.getBoolean(1);
                }
            }
            Map<String, String> values = new LinkedHashMap<>();
            if (exists) {
                String[] ids = ServiceConfig.VARIABLES.stream()
                        .map(v -> ServiceConfig.variableId(account, serviceId, v)).toArray(String[]::new);
                try (PreparedStatement ps = c.prepareStatement("SELECT r.resource_id, s.version, s.value FROM resources r "
                        + "LEFT JOIN LATERAL (SELECT version, value FROM secrets x WHERE x.resource_id = r.resource_id "
                        + "ORDER BY version DESC LIMIT 1) s ON true WHERE r.resource_id = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("text", ids));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            String id = rs.getString(1);
                            byte[] sealed = rs.getBytes(3);
                            String value = sealed == null ? null : new String(
                                    sealer.open(sealed, SecretWriter.context(id, rs.getInt(2))), StandardCharsets.UTF_8);
                            values.put(id.substring(id.lastIndexOf('/') + 1), value);
                        }
                    }
                }
            }
            return ServiceConfig.parse(account, serviceId, exists, enabled, values);
        }
    }

    /**
     * Enables or disables the service in the database, with its change-log row, in one transaction.
     *
     * @throws SQLException when the write fails (rolled back)
     */
    void setEnabled(String account, String serviceId, boolean enabled) throws SQLException {
        String webservice = ServiceConfig.webserviceId(account, serviceId);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO authenticator_configs(resource_id, enabled) "
                    + "VALUES (?, ?) ON CONFLICT (resource_id) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()")) {
                ps.setString(1, webservice);
                ps.setBoolean(2, enabled);
                ps.executeUpdate();
                changeLog.append(c, account, "authenticator-config", webservice);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        changes.invalidate();
    }
}
