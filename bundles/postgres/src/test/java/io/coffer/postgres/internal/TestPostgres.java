package io.coffer.postgres.internal;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import javax.sql.DataSource;

/** A real, throw-away PostgreSQL for other modules' tests (shipped in this module's test-jar). */
public final class TestPostgres implements AutoCloseable {
    private final Path base;
    private final PgCluster pg;

    public TestPostgres() throws Exception {
        base = Files.createTempDirectory(Paths.get("/tmp"), "coffer-pg-test");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        pg = new PgCluster(PgCluster.findBinaries(""), base.resolve("pg"), base.resolve("secrets"), "127.0.0.1",
                port, OsCommand.nodeRunsAsRoot() ? "postgres" : null);
        pg.prepareFolders();
        pg.initdb();
        pg.startOrAdopt(Duration.ofSeconds(60));
        pg.ensureAppDatabase("coffer", "coffer");
    }

    /** @return an unpooled DataSource for the application role */
    public DataSource dataSource() throws Exception {
        return pg.dataSource("coffer", "coffer");
    }

    /** @return an unpooled DataSource for the superuser (tests that change server settings) */
    public DataSource superuser() throws Exception {
        return pg.dataSource(PgCluster.SUPERUSER, "coffer");
    }

    @Override
    public void close() throws Exception {
        pg.stop(Duration.ofSeconds(30));
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
