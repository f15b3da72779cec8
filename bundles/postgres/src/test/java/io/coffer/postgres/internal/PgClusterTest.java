package io.coffer.postgres.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Runs a real PostgreSQL 15 in a temporary folder (under /tmp, so the postgres OS user can reach it as root). */
public class PgClusterTest {
    private Path base;
    private PgCluster pg;

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private PgCluster cluster(int port) {
        return new PgCluster(PgCluster.findBinaries(""), base.resolve("pg"), base.resolve("secrets"), "127.0.0.1",
                port, OsCommand.nodeRunsAsRoot() ? "postgres" : null);
    }

    @Before
    public void setUp() throws Exception {
        base = Files.createTempDirectory(Paths.get("/tmp"), "coffer-pg-test");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        pg = cluster(freePort());
    }

    @After
    public void tearDown() throws Exception {
        pg.stop(Duration.ofSeconds(30));
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    public void initdbStartConnectAdoptStop() throws Exception {
        pg.prepareFolders();
        assertFalse(pg.initialised());
        pg.initdb();
        assertTrue(pg.initialised());
        String hba = Files.readString(pg.data.resolve("pg_hba.conf"));
        for (String line : hba.split("\n")) {
            if (!line.startsWith("#")) {
                assertFalse("no trust authentication: " + line, line.matches(".*\\btrust\\b.*"));
            }
        }
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(pg.passwordFile(PgCluster.SUPERUSER))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pg.socketDir)));

        assertFalse("fresh start, nothing to adopt", pg.startOrAdopt(Duration.ofSeconds(60)));
        pg.ensureAppDatabase("coffer", "coffer");
        try (Connection c = pg.dataSource("coffer", "coffer").getConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT current_user, current_database()")) {
            rs.next();
            assertEquals("coffer", rs.getString(1));
            assertEquals("coffer", rs.getString(2));
        }
        // The password on disk is the one that works; a wrong one is refused (scram, not trust).
        org.postgresql.ds.PGSimpleDataSource wrong = pg.dataSource("coffer", "coffer");
        wrong.setPassword("not-the-password");
        try (Connection c = wrong.getConnection()) {
            fail("wrong password accepted");
        } catch (java.sql.SQLException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("password authentication failed"));
        }

        // A node killed -9 leaves its postmaster running: the next node adopts it instead of failing.
        long pid = pg.livePostmaster().orElseThrow();
        PgCluster again = cluster(pg.port);
        assertTrue(again.startOrAdopt(Duration.ofSeconds(60)));
        assertEquals(pid, (long) again.livePostmaster().orElseThrow());
        again.ensureAppDatabase("coffer", "coffer");

        pg.stop(Duration.ofSeconds(30));
        assertFalse(pg.livePostmaster().isPresent());
        assertFalse(pg.ready());
        // Restart keeps the data.
        assertFalse(pg.startOrAdopt(Duration.ofSeconds(60)));
        pg.ensureAppDatabase("coffer", "coffer");
    }

    @Test
    public void portInUseGivesAClearMessage() throws Exception {
        pg.prepareFolders();
        pg.initdb();
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", pg.port));
            pg.startOrAdopt(Duration.ofSeconds(30));
            fail("started on a busy port");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("already in use"));
        }
    }

    @Test
    public void unreachableFolderIsReportedClearly() throws Exception {
        assumeTrue("only meaningful when PostgreSQL runs as another OS user", OsCommand.nodeRunsAsRoot());
        Path closed = base.resolve("closed");
        Files.createDirectories(closed);
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        PgCluster hidden = new PgCluster(PgCluster.findBinaries(""), closed.resolve("pg"), base.resolve("s2"),
                "127.0.0.1", freePort(), "postgres");
        try {
            hidden.prepareFolders();
            fail("unreachable folder accepted");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not reachable for OS user 'postgres'"));
            assertTrue(e.getMessage(), e.getMessage().contains(closed.toString()));
        }
    }

    @Test
    public void identifiersFromConfigurationAreChecked() {
        assertEquals("coffer", PgCluster.ident("coffer"));
        for (String bad : new String[] {"Coffer", "a\"b", "x; drop", "", "1abc"}) {
            try {
                PgCluster.ident(bad);
                fail("accepted " + bad);
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
    }
}
