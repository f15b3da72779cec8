package io.coffer.authn.jwt.internal;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.coffer.api.crypto.Sealer;
import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.store.Database;

/** Rows a policy load would write, written directly into a real test database; and instruments around it. */
final class Fixture {
    private final Database db;
    private final Sealer sealer;
    private final String account;

    Fixture(Database db, Sealer sealer, String account) {
        this.db = db;
        this.sealer = sealer;
        this.account = account;
    }

    private void sql(String statement, Object... args) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(statement)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    /** A resource (and, for role kinds, its role) owned by admin; {@code id} is {@code kind:identifier}. */
    String record(String id) throws Exception {
        String[] kindId = id.split(":", 2);
        String full = account + ":" + id;
        if (!kindId[0].equals("variable") && !kindId[0].equals("webservice")) {
            sql("INSERT INTO roles(role_id, account, kind, identifier) VALUES (?,?,?,?)", full, account, kindId[0],
                    kindId[1]);
        }
        sql("INSERT INTO resources(resource_id, account, kind, identifier, owner_id) VALUES (?,?,?,?,?)", full, account,
                kindId[0], kindId[1], account + ":user:admin");
        return full;
    }

    void permit(String role, String privilege, String resource) throws Exception {
        sql("INSERT INTO permissions(privilege, resource_id, role_id) VALUES (?,?,?)", privilege, account + ":" + resource,
                account + ":" + role);
    }

    void grant(String role, String member) throws Exception {
        sql("INSERT INTO role_memberships(role_id, member_id) VALUES (?,?)", account + ":" + role, account + ":" + member);
    }

    void annotate(String resource, String name, String value) throws Exception {
        sql("INSERT INTO annotations(resource_id, name, value) VALUES (?,?,?)", account + ":" + resource, name, value);
    }

    /** Appends a version to {@code variable:<id>}, sealed as the secrets bundle seals it. */
    void secret(String variable, String value) throws Exception {
        String id = account + ":variable:" + variable;
        int version;
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(max(version), 0) + 1 FROM secrets WHERE resource_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                version = rs.getInt(1);
            }
        }
        sql("INSERT INTO secrets(resource_id, version, value) VALUES (?,?,?)", id, version,
                sealer.seal(value.getBytes(StandardCharsets.UTF_8), SecretWriter.context(id, version)));
    }

    /** A policy {@code conjur/authn-jwt/<service>} with its webservice, variables set, and an {@code apps} group. */
    void service(String service, String... variables) throws Exception {
        String base = "conjur/authn-jwt/" + service;
        record("webservice:" + base);
        record("webservice:" + base + "/status");
        record("group:" + base + "/apps");
        permit("group:" + base + "/apps", "authenticate", "webservice:" + base);
        permit("group:" + base + "/apps", "read", "webservice:" + base + "/status");
        for (int i = 0; i + 1 < variables.length; i += 2) {
            record("variable:" + base + "/" + variables[i]);
            if (variables[i + 1] != null) {
                secret(base + "/" + variables[i], variables[i + 1]);
            }
        }
    }

    /** A database whose connections are counted: a warm path must open none. */
    static final class Counting implements Database {
        final AtomicInteger connections = new AtomicInteger();
        private final Database db;
        private final DataSource ds;

        Counting(Database db) {
            this.db = db;
            this.ds = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                    new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                        if (method.getName().equals("getConnection")) {
                            connections.incrementAndGet();
                        }
                        try {
                            return method.invoke(db.dataSource(), args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        @Override
        public DataSource dataSource() {
            return ds;
        }

        @Override
        public String schemaVersion() {
            return db.schemaVersion();
        }
    }

    /**
     * A database that never answers. A {@code ChangeWatcher} over it keeps its generation until told: the watcher of
     * the real database also moves with background WAL activity, which would make "no connection on a warm path"
     * flaky.
     */
    static Database unreachable() {
        DataSource down = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    throw new java.sql.SQLException("unreachable");
                });
        return new Database() {
            public DataSource dataSource() { return down; }
            public String schemaVersion() { return "0"; }
        };
    }

    static JwtSettings.Enabled enabled(String authenticators) {
        return new JwtSettings.Enabled() {
            public Class<? extends Annotation> annotationType() { return JwtSettings.Enabled.class; }
            public String authenticators() { return authenticators; }
        };
    }

    static JwtAuthenticator.Config config(int clientFailures, int roleFailures) {
        return new JwtAuthenticator.Config() {
            public Class<? extends Annotation> annotationType() { return JwtAuthenticator.Config.class; }
            public int client_failures() { return clientFailures; }
            public int role_failures() { return roleFailures; }
            public int window_seconds() { return 60; }
            public int jwks_cache_seconds() { return 600; }
            public int jwks_refresh_seconds() { return 60; }
            public int jwks_timeout_millis() { return 2000; }
            public int jwks_max_bytes() { return 65536; }
            public int clock_skew_seconds() { return 0; }
        };
    }
}
