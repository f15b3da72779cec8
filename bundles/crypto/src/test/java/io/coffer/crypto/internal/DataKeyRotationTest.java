package io.coffer.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.store.internal.TestDatabase;

/**
 * Data-key rotation over 1,000 secrets in a real PostgreSQL while readers (this node, and a second node that
 * unlocked before the rotation) sample every variable: a crash mid-way, resume on restart, older version destroyed
 * only when unused; a tampered row stops the destruction instead of being lost.
 */
public class DataKeyRotationTest {
    private static final int SECRETS = 1000;
    private static TestDatabase db;
    private static Path file;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        file = Files.createTempDirectory("coffer-keys").resolve("server.key");
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    private static String id(int i) {
        return "rot:variable:v" + i;
    }

    private static byte[] value(int i) {
        return ("rotation-value-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static List<Integer> versions(String sql) throws Exception {
        List<Integer> out = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    private static String blobVersions() {
        return "SELECT DISTINCT get_byte(value, 4) FROM secrets WHERE resource_id LIKE 'rot:%' ORDER BY 1";
    }

    @Test
    public void rotateOverAThousandSecretsWithReadersACrashAndAResume() throws Exception {
        Keyring leader = TestKeys.keyring(db, file);
        try (Connection c = db.dataSource().getConnection()) {
            c.createStatement().execute("INSERT INTO accounts(id) VALUES ('rot');"
                    + "INSERT INTO roles(role_id, account, kind, identifier) VALUES ('rot:user:admin', 'rot', 'user', 'admin');"
                    + "INSERT INTO resources(resource_id, account, kind, identifier, owner_id) SELECT 'rot:variable:v' || i, "
                    + "'rot', 'variable', 'v' || i, 'rot:user:admin' FROM generate_series(0, " + (SECRETS - 1) + ") i");
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO secrets(resource_id, version, value) VALUES (?, 1, ?)")) {
                for (int i = 0; i < SECRETS; i++) {
                    ps.setString(1, id(i));
                    ps.setBytes(2, leader.seal(value(i), id(i) + "#1"));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO credentials(role_id, api_key) VALUES (?, ?)")) {
                ps.setString(1, "rot:user:admin");
                ps.setBytes(2, leader.seal("api-key".getBytes(StandardCharsets.US_ASCII), "rot:user:admin"));
                ps.executeUpdate();
            }
        }
        // A second node that unlocked before the rotation: it learns the new version from the keyring when it first
        // meets a value sealed under it.
        Keyring follower = TestKeys.keyring(db, file);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> readers = new ArrayList<>();
        Keyring[] nodes = {leader, follower};
        for (int t = 0; t < 2; t++) {
            Keyring node = nodes[t];
            Thread r = new Thread(() -> {
                try (Connection c = db.dataSource().getConnection();
                        PreparedStatement ps = c.prepareStatement("SELECT value FROM secrets WHERE resource_id = ?")) {
                    while (!stop.get()) {
                        int i = ThreadLocalRandom.current().nextInt(SECRETS);
                        ps.setString(1, id(i));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            if (!java.util.Arrays.equals(value(i), node.open(rs.getBytes(1), id(i) + "#1"))) {
                                failures.add("wrong value for " + id(i));
                            }
                        }
                        reads.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            });
            r.start();
            readers.add(r);
        }
        try {
            // The rotation "crashes" after two batches: part of the rows moved, both versions in the keyring.
            leader.crashRotationAfterBatches = 2;
            String out = leader.rotateData(true);
            assertTrue(out, out.contains("simulated crash"));
            assertEquals(List.of(1, 2), versions("SELECT version FROM keyring ORDER BY 1"));
            assertEquals(List.of(1, 2), versions(blobVersions()));

            // Restart: the Leader sees two versions and resumes by itself.
            Keyring restarted = TestKeys.keyring(db, file);
            for (int i = 0; i < 600 && !restarted.rotation().finished(); i++) {
                Thread.sleep(50);
            }
            String state = restarted.status().get("rotation").toString();
            assertTrue(state, state.startsWith("done: ") && state.contains("1 older data-key version(s) destroyed"));
            assertEquals(List.of(2), versions("SELECT version FROM keyring ORDER BY 1"));
            assertEquals(List.of(2), versions(blobVersions()));
            assertEquals(List.of(2), versions("SELECT get_byte(api_key, 4) FROM credentials WHERE role_id = 'rot:user:admin'"));
            Thread.sleep(200);
        } finally {
            stop.set(true);
            for (Thread r : readers) {
                r.join();
            }
        }
        assertEquals("no read failed or returned a wrong value", List.of(), failures);
        assertTrue("readers ran: " + reads.get(), reads.get() > 100);
        // A node started now knows only v2, and every value opens.
        Keyring fresh = TestKeys.keyring(db, file);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT resource_id, value FROM secrets WHERE resource_id LIKE 'rot:%'")) {
            int n = 0;
            while (rs.next()) {
                int i = Integer.parseInt(rs.getString(1).substring("rot:variable:v".length()));
                assertArrayEquals(value(i), fresh.open(rs.getBytes(2), rs.getString(1) + "#1"));
                n++;
            }
            assertEquals(SECRETS, n);
        }

        // A tampered row can't be re-encrypted: the rotation says so and keeps the older version.
        try (Connection c = db.dataSource().getConnection()) {
            c.createStatement().execute("UPDATE secrets SET value = set_byte(value, length(value) - 1, "
                    + "get_byte(value, length(value) - 1) # 1) WHERE resource_id = 'rot:variable:v7'");
        }
        String out = fresh.rotateData(true);
        assertTrue(out, out.contains("incomplete: 1 value(s) still under older versions (1 can't be opened"));
        assertEquals(List.of(2, 3), versions("SELECT version FROM keyring ORDER BY 1"));
    }

    @Test
    public void everyByteaColumnIsKnownToTheRotation() throws Exception {
        List<String> unknown = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT table_name || '.' || column_name FROM information_schema.columns "
                        + "WHERE table_schema = 'public' AND data_type = 'bytea'")) {
            while (rs.next()) {
                String col = rs.getString(1);
                if (!SealedColumns.NOT_SEALED.contains(col)
                        && SealedColumns.ALL.stream().noneMatch(s -> s.toString().equals(col))) {
                    unknown.add(col);
                }
            }
        }
        assertEquals("BYTEA columns missing from SealedColumns (sealed?) or NOT_SEALED", List.of(), unknown);
    }
}
