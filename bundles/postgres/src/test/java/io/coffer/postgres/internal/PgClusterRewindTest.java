package io.coffer.postgres.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Two real PostgreSQL 15 servers replicating by certificate (hostssl … cert, certificates from a test CA made with
 * keytool, as the launcher makes them). The replica is promoted while the old primary still takes a write the
 * replica never receives; the old primary is then rewound onto the new timeline: it loses exactly that write, keeps
 * everything else, and streams from the new primary.
 */
public class PgClusterRewindTest {
    private static final char[] PW = "test-password".toCharArray();
    private Path base;
    private PgCluster a;
    private PgCluster b;

    @Before
    public void setUp() throws Exception {
        base = Files.createTempDirectory(Paths.get("/tmp"), "coffer-pg-test");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        issueCertificates();
        String osUser = OsCommand.nodeRunsAsRoot() ? "postgres" : null;
        // One secrets folder: a replica's database is a copy of the primary's, passwords included.
        a = new PgCluster(PgCluster.findBinaries(""), base.resolve("a"), base.resolve("secrets"), "127.0.0.1",
                PgClusterTest.freePort(), osUser);
        b = new PgCluster(PgCluster.findBinaries(""), base.resolve("b"), base.resolve("secrets"), "127.0.0.1",
                PgClusterTest.freePort(), osUser);
    }

    @After
    public void tearDown() throws Exception {
        for (PgCluster c : new PgCluster[] {a, b}) {
            try {
                c.stop(Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                // best effort
            }
        }
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "keytool")
                .toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals("keytool " + String.join(" ", args) + ": " + out, 0, p.waitFor());
    }

    private void issueCertificates() throws Exception {
        String ca = base.resolve("ca.p12").toString();
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=test CA",
                "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12", "-keystore", ca, "-storepass", "capass");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", "capass", "-file",
                base.resolve("ca.pem").toString());
        for (String n : new String[] {"a", "b"}) {
            String ks = base.resolve(n + ".p12").toString();
            keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + n,
                    "-validity", "2", "-storetype", "PKCS12", "-keystore", ks, "-storepass", new String(PW));
            keytool("-certreq", "-alias", "node", "-keystore", ks, "-storepass", new String(PW), "-file",
                    base.resolve(n + ".csr").toString());
            keytool("-gencert", "-alias", "ca", "-keystore", ca, "-storepass", "capass", "-rfc", "-validity", "2",
                    "-ext", "san=ip:127.0.0.1", "-ext", "eku=serverAuth,clientAuth", "-infile",
                    base.resolve(n + ".csr").toString(), "-outfile", base.resolve(n + ".pem").toString());
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", base.resolve("ca.pem").toString(),
                    "-keystore", ks, "-storepass", new String(PW));
            keytool("-importcert", "-noprompt", "-alias", "node", "-file", base.resolve(n + ".pem").toString(),
                    "-keystore", ks, "-storepass", new String(PW));
        }
    }

    private static void sql(PgCluster c, String statement) throws Exception {
        try (Connection conn = c.dataSource(PgCluster.SUPERUSER, "coffer").getConnection();
                Statement st = conn.createStatement()) {
            st.execute(statement);
        }
    }

    private static List<String> rows(PgCluster c) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection conn = c.dataSource(PgCluster.SUPERUSER, "coffer").getConnection();
                ResultSet rs = conn.createStatement().executeQuery("SELECT v FROM t ORDER BY v")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String scalar(PgCluster c, String query) throws Exception {
        try (Connection conn = c.dataSource(PgCluster.SUPERUSER, "coffer").getConnection();
                ResultSet rs = conn.createStatement().executeQuery(query)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void eventually(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.call()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(200);
        }
    }

    @Test
    public void certificateReplicationThenRewindOfTheOldPrimary() throws Exception {
        a.prepareFolders();
        a.installTls(base.resolve("a.p12"), PW, base.resolve("ca.pem"));
        a.initdb();
        a.writeAccessRules();
        a.startOrAdopt(Duration.ofSeconds(60));
        a.ensureAppDatabase("coffer", "coffer");
        a.ensureReplicationRole("coffer", "coffer");
        sql(a, "CREATE TABLE t (v text)");
        sql(a, "INSERT INTO t VALUES ('before')");

        b.prepareFolders();
        b.installTls(base.resolve("b.p12"), PW, base.resolve("ca.pem"));
        b.baseBackup("127.0.0.1", a.port, "standby_b");
        b.writeAccessRules();
        b.startOrAdopt(Duration.ofSeconds(60));
        eventually("b streams from a over TLS with its certificate", () -> "1".equals(scalar(a,
                "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) "
                        + "WHERE s.ssl AND s.client_dn = '/CN=b' AND r.application_name = 'standby_b'")));
        assertFalse("no password in b's connection", Files.readString(b.data.resolve("postgresql.auto.conf"))
                .contains("password="));
        sql(a, "INSERT INTO t VALUES ('replicated')");
        eventually("b has the replicated row", () -> rows(b).contains("replicated"));

        // Failover: b is promoted; a, cut off from b from now on, still takes a write (never confirmed by b).
        sql(a, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
        b.promote(Duration.ofSeconds(60));
        sql(b, "CHECKPOINT");
        sql(b, "INSERT INTO t VALUES ('new-leader')");
        sql(a, "INSERT INTO t VALUES ('lost')");

        a.stop(Duration.ofSeconds(30));
        assertTrue("the old primary is rewound onto b's timeline", a.rewind("127.0.0.1", b.port, "standby_a"));
        assertTrue(a.replica());
        a.writeAccessRules();
        a.startOrAdopt(Duration.ofSeconds(60));
        eventually("a streams from b", () -> "1".equals(scalar(b,
                "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby_a'")));
        eventually("a has b's write", () -> rows(a).contains("new-leader"));
        assertEquals("exactly the unconfirmed write is gone", List.of("before", "new-leader", "replicated"),
                rows(a));
        assertEquals("2", scalar(a, "SELECT received_tli::text FROM pg_stat_wal_receiver"));
    }

    @Test
    public void recognisesADivergedReplicasLogLines() {
        assertTrue(PgCluster.DIVERGED.matcher("FATAL:  could not start WAL streaming: ERROR:  requested starting "
                + "point 0/5000000 on timeline 1 is not in this server's history").find());
        assertTrue(PgCluster.DIVERGED.matcher("FATAL:  new timeline 2 forked off current database system timeline 1 "
                + "before current recovery point 0/50370B0").find());
        assertFalse(PgCluster.DIVERGED.matcher("LOG:  started streaming WAL from primary at 0/5000000 on timeline 2")
                .find());
    }
}
