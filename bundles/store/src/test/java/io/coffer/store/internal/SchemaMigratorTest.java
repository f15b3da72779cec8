package io.coffer.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.postgres.internal.TestPostgres;

public class SchemaMigratorTest {
    private static TestPostgres pg;

    @BeforeClass
    public static void start() throws Exception {
        pg = new TestPostgres();
    }

    @AfterClass
    public static void stop() throws Exception {
        pg.close();
    }

    @Test
    public void migratesOnceAndIsIdempotent() throws Exception {
        SchemaMigrator m = new SchemaMigrator(pg.dataSource(), null);
        assertTrue(m.check().toMap().toString(), m.check().ok());
        // The newest migration shipped in the bundle is the version reached.
        int newest = 0;
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                java.nio.file.Path.of("src/main/resources/db/migration"))) {
            newest = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("V\\d+__.*\\.sql"))
                    .mapToInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__")))).max().orElse(0);
        }
        assertTrue(newest >= 4);
        assertEquals(String.valueOf(newest), m.check().details().get("version"));
        // A restart against a migrated schema applies nothing and stays healthy.
        SchemaMigrator again = new SchemaMigrator(pg.dataSource(), null);
        assertTrue(again.check().ok());
        try (Connection c = pg.dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('change_log','heartbeat')")) {
            rs.next();
            assertEquals(2, rs.getInt(1));
        }
    }

    @Test
    public void unreachableDatabaseIsUnhealthyWithAReason() throws Exception {
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {1});
        ds.setConnectTimeout(2);
        SchemaMigrator m = new SchemaMigrator(ds, null);
        assertFalse(m.check().ok());
        assertTrue(m.check().details().containsKey("error"));
    }
}
