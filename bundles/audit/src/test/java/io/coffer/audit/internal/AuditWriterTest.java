package io.coffer.audit.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditOverloadedException;
import io.coffer.store.internal.TestDatabase;

/** The writer against real files and a real PostgreSQL with Coffer's schema. */
public class AuditWriterTest {
    private static TestDatabase db;
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    static AuditEvent fetch(String resource) {
        return AuditEvent.builder("fetch", "fetch", true).requestId("req-" + resource).clientIp("127.0.0.1")
                .user("acct:user:alice").subject("resource", resource)
                .message("acct:user:alice fetched " + resource).build();
    }

    /** A writer without audit keys (a locked node): no checkpoints, so lines map one to one to events. */
    private AuditWriter writer(Path dir, int capacity, long maxBytes, Supplier<DataSource> ds) throws Exception {
        return new AuditWriter(dir, new AuditWriter.Settings(capacity, 50, 100, maxBytes, 3, 1000, 60_000), "n1",
                () -> null, ds);
    }

    @Test
    public void everyEventReachesBothFilesAndTheTable() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 1000, 1 << 20, db::dataSource);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            AuditEvent e = fetch("acct:variable:files/" + i);
            events.add(e);
            w.record(e);
        }
        w.stop();
        List<String> json = Files.readAllLines(dir.resolve(AuditWriter.JSON_FILE));
        List<String> text = Files.readAllLines(dir.resolve(AuditWriter.TEXT_FILE));
        assertEquals(250, json.size());
        assertEquals(250, text.size());
        assertTrue(json.get(7), json.get(7).startsWith("{\"id\":\"" + events.get(7).id() + "\","));
        assertTrue(json.get(7), json.get(7).contains("\"sd\":{\"auth@43868\":{\"user\":\"acct:user:alice\"}"));
        assertEquals(Rfc5424.line(events.get(7)), text.get(7));
        assertEquals(250, count("resource_id LIKE 'acct:variable:files/%'"));
        assertEquals(1, count("id = '" + events.get(3).id() + "' AND request_id = 'req-acct:variable:files/3' AND "
                + "structured_data->'subject@43868'->>'resource' = 'acct:variable:files/3' AND priority = 86 AND "
                + "account = 'acct' AND node = 'n1' AND seq = 4"));
    }

    @Test
    public void theSameIdsInsertedAgainAreStoredOnce() throws Exception {
        List<AuditEvent> batch = List.of(fetch("acct:variable:again/1"), fetch("acct:variable:again/2"));
        assertTrue(AuditTable.insert(db.dataSource(), batch));
        assertTrue(AuditTable.insert(db.dataSource(), batch));
        AuditWriter w = writer(tmp.newFolder().toPath(), 10, 1 << 20, db::dataSource);
        batch.forEach(w::record);
        w.stop();
        assertEquals(2, count("resource_id LIKE 'acct:variable:again/%'"));
    }

    @Test
    public void filesRotateBySize() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 100, 2_000, () -> null);
        for (int i = 0; i < 60; i++) {
            w.record(fetch("acct:variable:rotate/" + i));
            waitDrained(w); // one event per batch: a file passes its size only by a batch
        }
        w.stop();
        Path json = dir.resolve(AuditWriter.JSON_FILE);
        assertTrue(Files.exists(dir.resolve(AuditWriter.JSON_FILE + ".1")));
        assertTrue(Files.exists(dir.resolve(AuditWriter.TEXT_FILE + ".3")));
        assertFalse("keeps 3", Files.exists(dir.resolve(AuditWriter.JSON_FILE + ".4")));
        assertTrue(Files.size(json) <= 2_000);
        List<String> newest = Files.readAllLines(json);
        assertTrue(newest.get(newest.size() - 1).contains("acct:variable:rotate/59"));
    }

    @Test
    public void aFullQueueWaitsThenRefusesNeverDrops() throws Exception {
        Path dir = tmp.newFolder().toPath();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        // The database supplier is called by the writer thread: holding it there stalls the drain.
        AuditWriter w = writer(dir, 5, 1 << 20, () -> {
            blocked.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        w.record(fetch("acct:variable:bp/first"));
        assertTrue(blocked.await(10, TimeUnit.SECONDS));
        int accepted = 1;
        for (int i = 0; i < 5; i++) {
            w.record(fetch("acct:variable:bp/" + i));
            accepted++;
        }
        long t0 = System.nanoTime();
        try {
            w.record(fetch("acct:variable:bp/over"));
            fail("a full queue must refuse");
        } catch (AuditOverloadedException expected) {
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue("waited " + waited + " ms", waited >= 45 && waited < 5_000);
        }
        assertEquals(1L, w.health().details().get("rejected"));
        release.countDown();
        w.stop();
        List<String> json = Files.readAllLines(dir.resolve(AuditWriter.JSON_FILE));
        assertEquals("every accepted event is written", accepted, json.size());
        assertFalse(String.join("\n", json).contains("bp/over"));
    }

    private static void waitDrained(AuditWriter w) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (((Number) w.health().details().get("queue_depth")).intValue() > 0) {
            if (System.currentTimeMillis() > deadline) {
                fail("queue never drained: " + w.health().details());
            }
            Thread.sleep(10);
        }
    }

    private static long count(String where) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_events WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
