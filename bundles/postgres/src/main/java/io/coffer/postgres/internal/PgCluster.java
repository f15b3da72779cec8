package io.coffer.postgres.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One local PostgreSQL cluster: where it lives and how to create, start, adopt and stop it. No state beyond the
 * files on disk, so a node killed at any point finds everything it needs on its next start.
 *
 * <p>Layout under {@code root}: {@code data/} (PGDATA, 0700), {@code run/} (socket directory, 0700),
 * {@code log/postgresql.log}. Passwords live in the node's secrets directory, readable by the node only.
 */
final class PgCluster {
    private static final Logger LOG = LoggerFactory.getLogger(PgCluster.class);
    static final String SUPERUSER = "postgres";
    /** The role replicas stream as; its password reaches a replica in its enrolment (secrets/). */
    static final String REPLICATION_USER = "coffer_replication";

    final Path binDir;
    final Path root;
    final Path data;
    final Path socketDir;
    final Path logFile;
    final Path secrets;
    final String host;
    final int port;
    final String osUser;
    private final OsCommand os;

    PgCluster(Path binDir, Path root, Path secrets, String host, int port, String osUser) {
        this.binDir = binDir;
        this.root = root;
        this.data = root.resolve("data");
        this.socketDir = root.resolve("run");
        this.logFile = root.resolve("log").resolve("postgresql.log");
        this.secrets = secrets;
        this.host = host;
        this.port = port;
        this.osUser = osUser;
        this.os = new OsCommand(osUser);
    }

    /**
     * Finds PostgreSQL 15's server binaries: the configured folder, else Debian's, else {@code pg_config --bindir}.
     *
     * @throws IllegalStateException saying where it looked and how to fix it
     */
    static Path findBinaries(String configured) {
        if (configured != null && !configured.isBlank()) {
            Path p = Paths.get(configured.trim());
            if (Files.isExecutable(p.resolve("pg_ctl"))) {
                return p;
            }
            throw new IllegalStateException("io.coffer.postgres bin.dir=" + p + " has no executable pg_ctl");
        }
        for (String candidate : List.of("/usr/lib/postgresql/15/bin", "/usr/pgsql-15/bin",
                "/usr/local/pgsql/bin")) {
            Path p = Paths.get(candidate);
            if (Files.isExecutable(p.resolve("pg_ctl")) && Files.isExecutable(p.resolve("initdb"))) {
                return p;
            }
        }
        throw new IllegalStateException("PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin: "
                + "install the postgresql-15 package or set bin.dir in etc/io.coffer.postgres.cfg");
    }

    /** Creates the folders with the right owner and modes, and proves the database user can reach them. */
    void prepareFolders() throws IOException, InterruptedException {
        for (Path dir : List.of(root, root.resolve("log"), socketDir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            chownToDbUser(dir);
        }
        Files.createDirectories(secrets);
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));
        if (osUser != null) {
            // PostgreSQL runs as osUser: every parent folder must be traversable by it, or initdb fails obscurely.
            OsCommand.Result r = os.run(List.of("test", "-w", root.toString(), "-a", "-x", root.toString()),
                    Duration.ofSeconds(10));
            if (!r.ok()) {
                throw new IllegalStateException("the PostgreSQL folder " + root + " is not reachable for OS user '"
                        + osUser + "'" + blockingParent().map(p -> ": " + p + " is not traversable (needs o+x)")
                                .orElse("") + "; put the node in a folder that user can reach, e.g. --dir /srv/coffer");
            }
        }
    }

    private Optional<Path> blockingParent() throws IOException, InterruptedException {
        for (Path p = root.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (!os.run(List.of("test", "-x", p.toString()), Duration.ofSeconds(10)).ok()) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private void chownToDbUser(Path p) throws IOException {
        if (osUser != null) {
            UserPrincipal u = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
            Files.setOwner(p, u);
        }
    }

    boolean initialised() {
        return Files.exists(data.resolve("PG_VERSION"));
    }

    /**
     * Runs initdb with checksums (pg_rewind needs them), peer authentication on the socket and scram-sha-256 over
     * TCP; no {@code trust} anywhere. The superuser's password goes through a short-lived file only its owner reads.
     */
    void initdb() throws IOException, InterruptedException {
        String superPw = readOrCreatePassword(SUPERUSER);
        Path pwFile = root.resolve(".initdb-pw");
        Files.deleteIfExists(pwFile);
        Files.createFile(pwFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(pwFile, superPw + "\n", StandardCharsets.UTF_8);
            chownToDbUser(pwFile);
            OsCommand.Result r = os.run(List.of(binDir.resolve("initdb").toString(), "-D", data.toString(),
                    "-U", SUPERUSER, "--pwfile=" + pwFile, "--auth-local=peer", "--auth-host=scram-sha-256",
                    "--data-checksums", "-E", "UTF8", "--locale=C.UTF-8"), Duration.ofMinutes(3));
            if (!r.ok()) {
                throw new IllegalStateException("initdb failed (" + r.exit + "): " + tail(r.output));
            }
        } finally {
            Files.deleteIfExists(pwFile);
        }
        writeAccessRules();
        Files.writeString(data.resolve("coffer.conf"), String.join("\n",
                "# Managed by Coffer. Port, socket directory and listen address come from the node's command line.",
                "password_encryption = 'scram-sha-256'",
                "unix_socket_permissions = 0700",
                "wal_level = replica",
                "max_wal_senders = 10",
                "max_replication_slots = 10",
                "wal_log_hints = on",
                "hot_standby = on",
                "wal_keep_size = '256MB'",
                "log_line_prefix = '%m [%p] %q%u@%d '",
                ""), StandardCharsets.UTF_8);
        Files.writeString(data.resolve("postgresql.conf"), "\ninclude_if_exists = 'coffer.conf'\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        chownToDbUser(data.resolve("coffer.conf"));
        LOG.info("initialised PostgreSQL cluster in {}", data);
    }

    private void writeAccessRules() throws IOException {
        String nodeUser = System.getProperty("user.name");
        Files.writeString(data.resolve("pg_hba.conf"), String.join("\n",
                "# Managed by Coffer: no trust. Peer on the 0700 socket directory for the node's own tools,",
                "# scram-sha-256 over loopback for the node's connection pool.",
                "local   all   all                  peer map=coffer",
                "host    all   all   127.0.0.1/32   scram-sha-256",
                "host    replication   " + REPLICATION_USER + "   127.0.0.1/32   scram-sha-256",
                ""), StandardCharsets.UTF_8);
        Files.writeString(data.resolve("pg_ident.conf"), String.join("\n",
                "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME",
                "coffer     " + (osUser != null ? osUser : nodeUser) + "    " + SUPERUSER,
                "coffer     " + nodeUser + "    " + SUPERUSER,
                ""), StandardCharsets.UTF_8);
    }

    /** @return the running postmaster's pid from {@code postmaster.pid} if that process is alive */
    Optional<Long> livePostmaster() {
        try {
            List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"));
            long pid = Long.parseLong(lines.get(0).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> h.info().command()
                    .map(c -> c.contains("postgres")).orElse(true)).map(h -> pid);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** @return the port a live postmaster listens on, from line 4 of {@code postmaster.pid} */
    Optional<Integer> livePostmasterPort() {
        try {
            return Optional.of(Integer.parseInt(Files.readAllLines(data.resolve("postmaster.pid")).get(3).trim()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Starts PostgreSQL, or adopts the postmaster a killed node left running when it serves our port; a stale one
     * on another port is stopped first.
     *
     * @return true when an already running postmaster was adopted
     */
    boolean startOrAdopt(Duration timeout) throws IOException, InterruptedException {
        Optional<Long> live = livePostmaster();
        if (live.isPresent()) {
            if (livePostmasterPort().orElse(-1) == port && ready()) {
                LOG.info("adopted running PostgreSQL (pid {}) on port {}", live.get(), port);
                return true;
            }
            LOG.warn("stopping stale PostgreSQL (pid {}) left on port {}", live.get(), livePostmasterPort().orElse(-1));
            stop(Duration.ofSeconds(60));
        }
        ensurePortFree();
        OsCommand.Result r = os.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(),
                "-l", logFile.toString(), "-w", "-t", Long.toString(timeout.getSeconds()),
                "-o", "-p " + port + " -k " + socketDir + " -c listen_addresses=" + host, "start"),
                timeout.plusSeconds(10));
        if (!r.ok()) {
            throw new IllegalStateException("PostgreSQL did not start (" + r.exit + "): " + tail(r.output)
                    + "; its log: " + logFile);
        }
        return false;
    }

    private void ensurePortFree() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL port " + host + ":" + port
                    + " is already in use by another process; set port in etc/io.coffer.postgres.cfg"
                    + " or start the node with another --port-offset");
        }
    }

    boolean ready() throws IOException, InterruptedException {
        return os.run(List.of(binDir.resolve("pg_isready").toString(), "-q", "-h", socketDir.toString(),
                "-p", Integer.toString(port)), Duration.ofSeconds(10)).ok();
    }

    /** Fast shutdown: open transactions roll back, every committed one is durable. */
    void stop(Duration timeout) throws IOException, InterruptedException {
        if (livePostmaster().isEmpty()) {
            return;
        }
        OsCommand.Result r = os.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-m",
                "fast", "-w", "-t", Long.toString(timeout.getSeconds()), "stop"), timeout.plusSeconds(10));
        if (!r.ok() && livePostmaster().isPresent()) {
            throw new IllegalStateException("PostgreSQL did not stop (" + r.exit + "): " + tail(r.output));
        }
        LOG.info("stopped PostgreSQL in {}", data);
    }

    /** A DataSource over loopback TCP with scram; the pool and admin tasks use it. */
    PGSimpleDataSource dataSource(String user, String database) throws IOException {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {host});
        ds.setPortNumbers(new int[] {port});
        ds.setDatabaseName(database);
        ds.setUser(user);
        ds.setPassword(readOrCreatePassword(user));
        ds.setApplicationName("coffer");
        ds.setConnectTimeout(5);
        ds.setSocketTimeout(0);
        return ds;
    }

    /**
     * Makes sure the application role and its database exist and that the role's password is the one in the
     * node's secrets (a lost password file gets a new password). The password is hashed client-side (SCRAM), so
     * it never appears in SQL text or the server log.
     */
    void ensureAppDatabase(String user, String database) throws IOException, SQLException {
        boolean newPassword = !Files.exists(passwordFile(user));
        String pw = readOrCreatePassword(user);
        try (Connection c = dataSource(SUPERUSER, "postgres").getConnection(); Statement st = c.createStatement()) {
            boolean exists;
            try (var rs = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + ident(user) + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                st.execute("CREATE ROLE \"" + ident(user) + "\" LOGIN");
                newPassword = true;
            }
            if (newPassword) {
                c.unwrap(PGConnection.class).alterUserPassword(user, pw.toCharArray(), "scram-sha-256");
            }
            try (var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + ident(database) + "'")) {
                if (!rs.next()) {
                    st.execute("CREATE DATABASE \"" + ident(database) + "\" OWNER \"" + ident(user) + "\"");
                }
            }
        }
    }

    /**
     * Makes sure the replication role exists with the password in the node's secrets, and lets the application role
     * read replication statistics (pg_stat_replication, pg_stat_wal_receiver) for health.
     */
    void ensureReplicationRole(String appUser, String appDatabase) throws IOException, SQLException {
        String pw = readOrCreatePassword(REPLICATION_USER);
        try (Connection c = dataSource(SUPERUSER, "postgres").getConnection(); Statement st = c.createStatement()) {
            boolean exists;
            try (var rs = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + REPLICATION_USER + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                st.execute("CREATE ROLE " + REPLICATION_USER + " REPLICATION LOGIN");
            }
            c.unwrap(PGConnection.class).alterUserPassword(REPLICATION_USER, pw.toCharArray(), "scram-sha-256");
            String app = "\"" + ident(appUser) + "\"";
            // What the replication bundle does through the node's pool (granted on the Leader, replicated):
            // read replication statistics, name the synchronous Standby, promote and checkpoint after promotion.
            st.execute("GRANT pg_read_all_stats, pg_read_all_settings, pg_checkpoint TO " + app);
            st.execute("GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO " + app);
            st.execute("GRANT ALTER SYSTEM ON PARAMETER primary_conninfo TO " + app);
        }
        // Function privileges are per database: grant them where the node's pool connects.
        try (Connection c = dataSource(SUPERUSER, appDatabase).getConnection(); Statement st = c.createStatement()) {
            String app = "\"" + ident(appUser) + "\"";
            st.execute("GRANT EXECUTE ON FUNCTION pg_reload_conf() TO " + app);
            st.execute("GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO " + app);
        }
    }

    /**
     * Seeds an empty data directory from the upstream with {@code pg_basebackup -R}: the copy starts as a streaming
     * replica under {@code applicationName} (what the primary's {@code synchronous_standby_names} matches).
     */
    void baseBackup(String upstreamHost, int upstreamPort, String applicationName) throws IOException,
            InterruptedException {
        String pw = Files.readString(passwordFile(REPLICATION_USER), StandardCharsets.UTF_8).trim();
        if (!applicationName.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("invalid application name '" + applicationName + "'");
        }
        Path pwFile = root.resolve(".basebackup-pgpass");
        Files.deleteIfExists(pwFile);
        Files.createFile(pwFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            // The password goes through a pgpass file for pg_basebackup, and into primary_conninfo (PGDATA, 0600).
            Files.writeString(pwFile, upstreamHost + ":" + upstreamPort + ":*:" + REPLICATION_USER + ":" + pw + "\n",
                    StandardCharsets.UTF_8);
            chownToDbUser(pwFile);
            String conninfo = "host=" + upstreamHost + " port=" + upstreamPort + " user=" + REPLICATION_USER
                    + " application_name=" + applicationName + " passfile=" + pwFile;
            OsCommand.Result r = os.run(List.of(binDir.resolve("pg_basebackup").toString(), "-D", data.toString(),
                    "-R", "-X", "stream", "-c", "fast", "-d", conninfo), Duration.ofMinutes(30));
            if (!r.ok()) {
                deleteData();
                throw new IllegalStateException("pg_basebackup from " + upstreamHost + ":" + upstreamPort + " failed ("
                        + r.exit + "): " + tail(r.output));
            }
            writePrimaryConninfo(upstreamHost, upstreamPort, applicationName, pw);
        } finally {
            Files.deleteIfExists(pwFile);
        }
        LOG.info("seeded PostgreSQL from {}:{} as {}", upstreamHost, upstreamPort, applicationName);
    }

    /** Points this replica at an upstream (written to postgresql.auto.conf; the last line wins in PostgreSQL). */
    void writePrimaryConninfo(String host, int upstreamPort, String applicationName, String pw) throws IOException {
        Path auto = data.resolve("postgresql.auto.conf");
        String conninfo = "host=" + host + " port=" + upstreamPort + " user=" + REPLICATION_USER + " password=" + pw
                + " application_name=" + applicationName;
        Files.writeString(auto, "primary_conninfo = '" + conninfo.replace("'", "''") + "'\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        chownToDbUser(auto);
        Files.setPosixFilePermissions(auto, PosixFilePermissions.fromString("rw-------"));
    }

    /** @return whether this data directory is a replica's (recovery on start) */
    boolean replica() {
        return Files.exists(data.resolve("standby.signal"));
    }

    /** Ends recovery: this copy becomes a primary on a new timeline (followed by a CHECKPOINT, for pg_rewind). */
    void promote(Duration timeout) throws IOException, InterruptedException {
        OsCommand.Result r = os.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t",
                Long.toString(timeout.getSeconds()), "promote"), timeout.plusSeconds(10));
        if (!r.ok()) {
            throw new IllegalStateException("pg_ctl promote failed (" + r.exit + "): " + tail(r.output));
        }
        LOG.info("promoted PostgreSQL in {}", data);
    }

    private void deleteData() throws IOException {
        if (!Files.exists(data)) {
            return;
        }
        try (var walk = Files.walk(data)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    /** Only plain identifiers are accepted from configuration, so quoting them can't be escaped. */
    static String ident(String s) {
        if (!s.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("invalid PostgreSQL identifier '" + s + "' (use [a-z_][a-z0-9_]*)");
        }
        return s;
    }

    Path passwordFile(String user) {
        return secrets.resolve("postgres-" + ident(user) + ".password");
    }

    private String readOrCreatePassword(String user) throws IOException {
        Path f = passwordFile(user);
        if (Files.exists(f)) {
            return Files.readString(f, StandardCharsets.UTF_8).trim();
        }
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String pw = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Files.createDirectories(secrets);
        Path tmp = Files.createTempFile(secrets, ".pw", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pw + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return pw;
    }

    static String tail(String output) {
        String[] lines = output.split("\n");
        int from = Math.max(0, lines.length - 6);
        return String.join(" | ", java.util.Arrays.copyOfRange(lines, from, lines.length));
    }
}
