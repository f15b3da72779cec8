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
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
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
 * {@code log/postgresql.log}, {@code tls/} (the node's certificate and key as PEM, for replication). Passwords live
 * in the node's secrets directory, readable by the node only.
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
    final Path tlsDir;
    final Path secrets;
    final String host;
    final int port;
    final String osUser;
    private final OsCommand os;
    /** Replication over TLS with certificates from the cluster CA ({@code hostssl … cert}), once installed. */
    private volatile boolean tls;

    PgCluster(Path binDir, Path root, Path secrets, String host, int port, String osUser) {
        this.binDir = binDir;
        this.root = root;
        this.data = root.resolve("data");
        this.socketDir = root.resolve("run");
        this.logFile = root.resolve("log").resolve("postgresql.log");
        this.tlsDir = root.resolve("tls");
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

    /**
     * Writes the node's certificate and key (from its PKCS#12 keystore, issued by the cluster CA) and the CA as PEM
     * under {@code tls/}, owned by the database's OS user: the server presents them, the WAL receiver and
     * pg_basebackup authenticate with them. From then on replication is {@code hostssl … cert} only.
     */
    void installTls(Path keystore, char[] password, Path caPem) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keystore)) {
            ks.load(in, password);
        }
        String alias = null;
        for (String a : Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(a)) {
                alias = a;
                break;
            }
        }
        if (alias == null) {
            throw new GeneralSecurityException(keystore + " holds no key");
        }
        Key key = ks.getKey(alias, password);
        Certificate cert = ks.getCertificate(alias);
        Files.createDirectories(tlsDir);
        Files.setPosixFilePermissions(tlsDir, PosixFilePermissions.fromString("rwx------"));
        chownToDbUser(tlsDir);
        writePem(tlsDir.resolve("node.key"), "PRIVATE KEY", key.getEncoded());
        writePem(tlsDir.resolve("node.crt"), "CERTIFICATE", cert.getEncoded());
        writePem(tlsDir.resolve("ca.crt"), null, Files.readAllBytes(caPem));
        tls = true;
    }

    /** @return whether replication uses certificates */
    boolean tls() {
        return tls;
    }

    private void writePem(Path file, String type, byte[] der) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // Created 0600 before any byte is written: PostgreSQL refuses a key others can read, and so do we.
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        byte[] text = type == null ? der : ("-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n")
                        .getBytes(StandardCharsets.US_ASCII);
        Files.write(tmp, text);
        chownToDbUser(tmp);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * How a replica reaches its upstream: by certificate when TLS is installed ({@code verify-ca}: the cluster CA is
     * the cluster's own, and a Leader reached through a load balancer has no name in its certificate), else by the
     * replication role's password.
     */
    String replicationConninfo(String upstreamHost, int upstreamPort, String applicationName, String password) {
        // password: "password=…" or "passfile=…", used only without TLS
        String base = "host=" + upstreamHost + " port=" + upstreamPort + " user=" + REPLICATION_USER;
        String auth = tls ? " sslmode=verify-ca sslrootcert=" + tlsDir.resolve("ca.crt") + " sslcert="
                + tlsDir.resolve("node.crt") + " sslkey=" + tlsDir.resolve("node.key") : " " + password;
        return base + auth + " application_name=" + applicationName;
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

    /**
     * The node's own rules, rewritten before every start (a replica's copy came from its upstream): peer on the 0700
     * socket directory for the node's tools, scram-sha-256 over loopback for its pool, and replication by a
     * certificate from the cluster CA when TLS is installed (any node's, mapped to the replication role), else by the
     * replication role's password over loopback.
     */
    void writeAccessRules() throws IOException {
        String nodeUser = System.getProperty("user.name");
        Files.writeString(data.resolve("pg_hba.conf"), String.join("\n",
                "# Managed by Coffer (rewritten at every start): no trust.",
                "local   all   all                  peer map=coffer",
                tls ? "hostssl replication   " + REPLICATION_USER + "   all   cert map=coffer_nodes"
                        : "host    replication   " + REPLICATION_USER + "   127.0.0.1/32   scram-sha-256",
                // pg_rewind reads the upstream's files through SQL, as the replication role, in `postgres` only
                // (before the next line: the first matching line decides).
                tls ? "hostssl postgres      " + REPLICATION_USER + "   all   cert map=coffer_nodes" : "",
                "host    all   all   127.0.0.1/32   scram-sha-256",
                ""), StandardCharsets.UTF_8);
        Files.writeString(data.resolve("pg_ident.conf"), String.join("\n",
                "# MAPNAME     SYSTEM-USERNAME  PG-USERNAME",
                "coffer        " + (osUser != null ? osUser : nodeUser) + "    " + SUPERUSER,
                "coffer        " + nodeUser + "    " + SUPERUSER,
                "# Any certificate the cluster CA issued to a node (the CA signs nothing else) may replicate.",
                "coffer_nodes  /^[A-Za-z0-9._-]+$    " + REPLICATION_USER,
                ""), StandardCharsets.UTF_8);
        chownToDbUser(data.resolve("pg_hba.conf"));
        chownToDbUser(data.resolve("pg_ident.conf"));
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
                "-o", "-p " + port + " -k " + socketDir + " -c listen_addresses=" + host + sslOptions(), "start"),
                timeout.plusSeconds(10));
        if (!r.ok()) {
            throw new IllegalStateException("PostgreSQL did not start (" + r.exit + "): " + tail(r.output)
                    + "; its log: " + logFile);
        }
        return false;
    }

    /** On the command line, like the port: pg_basebackup and pg_rewind copy configuration files between nodes. */
    private String sslOptions() {
        return !tls ? "" : " -c ssl=on -c ssl_cert_file=" + tlsDir.resolve("node.crt") + " -c ssl_key_file="
                + tlsDir.resolve("node.key") + " -c ssl_ca_file=" + tlsDir.resolve("ca.crt")
                + " -c ssl_min_protocol_version=TLSv1.3";
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

    /**
     * Stops a database about to be rewound: fast first, immediate when that hangs. A replaced Leader's backend can
     * hang at exit in a commit waiting for a synchronous Standby that now leads elsewhere (PostgreSQL clears the
     * termination request before the exit's own commit); its WAL is rewound away anyway, and pg_rewind completes
     * crash recovery itself before it rewinds.
     */
    void stopForRewind(Duration fastTimeout) throws IOException, InterruptedException {
        if (livePostmaster().isEmpty()) {
            return;
        }
        OsCommand.Result r = os.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-m",
                "fast", "-w", "-t", Long.toString(fastTimeout.getSeconds()), "stop"), fastTimeout.plusSeconds(10));
        if (!r.ok() && livePostmaster().isPresent()) {
            LOG.warn("PostgreSQL in {} did not stop in {} s (a backend waiting on a synchronous Standby that left); "
                    + "stopping it immediately before the rewind", data, fastTimeout.getSeconds());
            r = os.run(List.of(binDir.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w",
                    "-t", "30", "stop"), Duration.ofSeconds(40));
            if (!r.ok() && livePostmaster().isPresent()) {
                throw new IllegalStateException("PostgreSQL did not stop (" + r.exit + "): " + tail(r.output));
            }
        }
        LOG.info("stopped PostgreSQL in {} for a rewind", data);
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
        if (SUPERUSER.equals(user)) {
            // The node's own idempotent setup (roles, grants) must not wait for a synchronous Standby: a Leader
            // restarted after a failover has none any more, and it must come up to find out and rejoin.
            ds.setOptions("-c synchronous_commit=local");
        }
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
            // What pg_rewind needs of its source, instead of a superuser (PostgreSQL's documented minimum).
            for (String f : List.of("pg_ls_dir(text, boolean, boolean)", "pg_stat_file(text, boolean)",
                    "pg_read_binary_file(text)", "pg_read_binary_file(text, bigint, bigint, boolean)")) {
                st.execute("GRANT EXECUTE ON FUNCTION pg_catalog." + f + " TO " + REPLICATION_USER);
            }
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
        if (!applicationName.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("invalid application name '" + applicationName + "'");
        }
        String pw = tls ? null : Files.readString(passwordFile(REPLICATION_USER), StandardCharsets.UTF_8).trim();
        Path pwFile = root.resolve(".basebackup-pgpass");
        Files.deleteIfExists(pwFile);
        try {
            if (!tls) {
                // The password goes through a pgpass file for pg_basebackup, and into primary_conninfo (PGDATA, 0600).
                Files.createFile(pwFile,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(pwFile, upstreamHost + ":" + upstreamPort + ":*:" + REPLICATION_USER + ":" + pw
                        + "\n", StandardCharsets.UTF_8);
                chownToDbUser(pwFile);
            }
            String conninfo = replicationConninfo(upstreamHost, upstreamPort, applicationName, "passfile=" + pwFile);
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
        LOG.info("seeded PostgreSQL from {}:{} as {}{}", upstreamHost, upstreamPort, applicationName,
                tls ? " (certificate authentication)" : "");
    }

    /** Points this replica at an upstream (written to postgresql.auto.conf; the last line wins in PostgreSQL). */
    void writePrimaryConninfo(String host, int upstreamPort, String applicationName, String pw) throws IOException {
        Path auto = data.resolve("postgresql.auto.conf");
        String conninfo = replicationConninfo(host, upstreamPort, applicationName, "password=" + pw);
        Files.writeString(auto, "primary_conninfo = '" + conninfo.replace("'", "''") + "'\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        chownToDbUser(auto);
        Files.setPosixFilePermissions(auto, PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * Rewinds this stopped data directory onto the upstream's timeline ({@code pg_rewind -R}: it also writes
     * standby.signal), connecting as the replication role by certificate; then points it at the upstream under its
     * application name. A target that was not shut down cleanly is crash-recovered first by pg_rewind itself.
     *
     * @return whether the rewind succeeded (false: the caller seeds afresh)
     */
    boolean rewind(String upstreamHost, int upstreamPort, String applicationName) throws IOException,
            InterruptedException {
        if (!applicationName.matches("[a-z0-9_]{1,63}") || !tls) {
            return false;
        }
        String source = "host=" + upstreamHost + " port=" + upstreamPort + " user=" + REPLICATION_USER
                + " dbname=postgres sslmode=verify-ca sslrootcert=" + tlsDir.resolve("ca.crt") + " sslcert="
                + tlsDir.resolve("node.crt") + " sslkey=" + tlsDir.resolve("node.key") + " connect_timeout=10";
        OsCommand.Result r = os.run(List.of(binDir.resolve("pg_rewind").toString(), "-D", data.toString(),
                "--source-server=" + source, "-R"), Duration.ofMinutes(30));
        if (!r.ok()) {
            LOG.warn("pg_rewind from {}:{} failed ({}): {}", upstreamHost, upstreamPort, r.exit, tail(r.output));
            return false;
        }
        // pg_rewind copied the upstream's configuration files; this node's own access rules are rewritten at start.
        writePrimaryConninfo(upstreamHost, upstreamPort, applicationName, null);
        LOG.info("rewound PostgreSQL onto {}:{}'s timeline: {}", upstreamHost, upstreamPort, tail(r.output));
        return true;
    }

    /** What PostgreSQL logs when a replica's timeline is not in its upstream's history (only a rewind helps). */
    static final java.util.regex.Pattern DIVERGED = java.util.regex.Pattern.compile(
            "forked off current database system timeline|is not in this server's history");

    /**
     * @param from in: the log length already read (-1: start at the end now); out: the length read to
     * @return the log's text appended since, at most its last 256 KB
     */
    String logSince(long[] from) throws IOException {
        if (!Files.exists(logFile)) {
            return "";
        }
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(logFile.toFile(), "r")) {
            long len = f.length();
            long start = from[0] < 0 || from[0] > len ? len : Math.max(from[0], len - 262_144);
            byte[] b = new byte[(int) (len - start)];
            f.seek(start);
            f.readFully(b);
            from[0] = len;
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /** @return {@code {host, port, application_name}} of this replica's primary_conninfo, or {@code null} */
    String[] pointedAt() throws IOException {
        Path auto = data.resolve("postgresql.auto.conf");
        if (!Files.exists(auto)) {
            return null;
        }
        String conninfo = null;
        for (String line : Files.readAllLines(auto, StandardCharsets.UTF_8)) {
            if (line.trim().startsWith("primary_conninfo")) {
                conninfo = line;
            }
        }
        if (conninfo == null) {
            return null;
        }
        java.util.regex.Matcher h = java.util.regex.Pattern.compile("\\bhost=([A-Za-z0-9.:-]+)").matcher(conninfo);
        java.util.regex.Matcher p = java.util.regex.Pattern.compile("\\bport=([0-9]{1,5})").matcher(conninfo);
        java.util.regex.Matcher a = java.util.regex.Pattern.compile("\\bapplication_name=([a-z0-9_]{1,63})")
                .matcher(conninfo);
        return h.find() && p.find() && a.find() ? new String[] {h.group(1), p.group(1), a.group(1)} : null;
    }

    /**
     * Moves the data directory aside before a fresh base backup (a rewind that could not be done), so a failed
     * backup can put it back: the node never starts on an empty or half-copied directory.
     */
    Path setDataAside() throws IOException {
        Path aside = root.resolve("data.before-reseed");
        if (Files.exists(aside)) {
            try (var walk = Files.walk(aside)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.move(data, aside);
        return aside;
    }

    /** Puts a set-aside data directory back (the base backup failed), or deletes it (it succeeded). */
    void restoreOrDrop(Path aside, boolean restore) throws IOException {
        if (restore) {
            deleteData();
            Files.move(aside, data);
            return;
        }
        try (var walk = Files.walk(aside)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
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
