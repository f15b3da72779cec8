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
    private AuditWriter writer(Path dir, int capacity, long maxBytes, Runnable durable) throws Exception {
        return new AuditWriter(dir, new AuditWriter.Settings(capacity, 50, 100, maxBytes, 3, 1000, 60_000), "n1",
                () -> null, durable);
    }

    /** The writer and its shipper into the test database, as the component wires them. */
    private static final class Shipped {
        final AuditWriter writer;
        final AuditShipper shipper;

        Shipped(Path dir, String node, long maxBytes) throws Exception {
            AuditShipper[] s = new AuditShipper[1];
            writer = new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 100, maxBytes, 5, 1000, 60_000, 100),
                    node, () -> null, () -> {
                        if (s[0] != null) {
                            s[0].wake();
                        }
                    }, () -> s[0] == null ? -1 : s[0].shippedSeq());
            shipper = new AuditShipper(node, new SpoolReader(writer::jsonFiles, dir.resolve(AuditWriter.JSON_FILE)),
                    writer::lastSeq, new TableStore(db::dataSource), () -> null,
                    new AuditShipper.Target("", 0, 1000, 1000), 100);
            s[0] = shipper;
        }

        void stop() throws Exception {
            writer.stop();
            long deadline = System.currentTimeMillis() + 20_000;
            while (shipper.behind() || ((Number) shipper.health().getOrDefault("delivered_seq", -1L)).longValue()
                    < writer.lastSeq()) {
                if (System.currentTimeMillis() > deadline) {
                    fail("never delivered: " + shipper.health());
                }
                Thread.sleep(20);
            }
            shipper.stop();
        }
    }

    @Test
    public void everyEventReachesBothFilesAndTheTable() throws Exception {
        Path dir = tmp.newFolder().toPath();
        Shipped w = new Shipped(dir, "n1", 1 << 20);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            AuditEvent e = fetch("acct:variable:files/" + i);
            events.add(e);
            w.writer.record(e);
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
        Shipped w = new Shipped(tmp.newFolder().toPath(), "n-again", 1 << 20);
        batch.forEach(w.writer::record);
        w.stop();
        assertEquals(2, count("resource_id LIKE 'acct:variable:again/%'"));
    }

    /**
     * The files are the spool: events written while the table is away (no shipper running), across rotations, reach
     * it from where the table stands when a shipper starts; a shipper that stops mid-way and a new one (a restart)
     * store each event once, in order.
     */
    @Test
    public void theTableCatchesUpFromTheFilesAcrossRotationsAndRestarts() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter alone = new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 10, 3_000, 50, 1000, 60_000),
                "n-spool", () -> null, () -> { });
        for (int i = 0; i < 40; i++) {
            alone.record(fetch("acct:variable:spool/" + i));
            if (i % 7 == 0) {
                waitDrained(alone);
            }
        }
        alone.stop();
        assertTrue("rotated", Files.exists(dir.resolve(AuditWriter.JSON_FILE + ".2")));
        assertEquals(0, count("node = 'n-spool'"));
        // A first shipper delivers part of it (its reader stops after 15 lines), then a second takes over.
        TableStore table = new TableStore(db::dataSource);
        SpoolReader r = new SpoolReader(() -> filesOf(dir), dir.resolve(AuditWriter.JSON_FILE));
        r.seek(table.storedSeq("n-spool") + 1);
        List<String> first = new ArrayList<>();
        r.next(15, Long.MAX_VALUE).forEach(l -> first.add(l.text()));
        r.close();
        assertEquals(15, table.store("n-spool", first));
        Shipped w = new Shipped(dir, "n-spool", 3_000);
        for (int i = 40; i < 70; i++) {
            w.writer.record(fetch("acct:variable:spool/" + i));
            if (i % 5 == 0) {
                waitDrained(w.writer);
            }
        }
        w.stop();
        assertEquals(70, count("node = 'n-spool' AND resource_id LIKE 'acct:variable:spool/%'"));
        assertEquals(70, count("node = 'n-spool'"));
        // Each seq once, none missing: the table holds a prefix of the chain.
        assertEquals(70, count("node = 'n-spool' AND seq BETWEEN 1 AND 70"));
        assertEquals(1, count("node = 'n-spool' AND seq = 41 AND resource_id = 'acct:variable:spool/40'"));
    }

    /**
     * A refused line (here edited so it is no longer the writer's rendering) doesn't stop the lines after it: the
     * shipper finds it one line at a time and skips it, so the table has every other line and a gap at its seq.
     */
    @Test
    public void aRefusedLineIsSkippedAndTheRestArrive() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter alone = new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 100, 1 << 20, 3, 1000, 60_000),
                "n-skip", () -> null, () -> { });
        for (int i = 0; i < 10; i++) {
            alone.record(fetch("acct:variable:skip/" + i));
        }
        alone.stop();
        Path file = dir.resolve(AuditWriter.JSON_FILE);
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        lines.set(4, lines.get(4).replace("\"priority\":86", "\"priority\":87"));
        Files.write(file, lines);
        Shipped w = new Shipped(dir, "n-skip", 1 << 20);
        w.writer.record(fetch("acct:variable:skip/after"));
        w.stop();
        assertEquals(10, count("node = 'n-skip' AND resource_id LIKE 'acct:variable:skip/%'"));
        assertEquals(0, count("node = 'n-skip' AND seq = 5"));
        assertEquals(1, count("node = 'n-skip' AND resource_id = 'acct:variable:skip/after'"));
        assertEquals(1L, w.shipper.health().get("refused_lines_skipped"));
    }

    /** Rotation keeps the files still needed (unshipped), past {@code keep}, up to the spool's bound. */
    @Test
    public void unshippedFilesOutliveRotationUpToTheSpoolsBound() throws Exception {
        Path dir = tmp.newFolder().toPath();
        boolean[] needed = {true};
        RotatingFile f = new RotatingFile(dir.resolve("x.json"), 10, 2, 5, p -> needed[0]);
        for (int i = 0; i < 4; i++) {
            f.append("line " + i + "\n");
            f.rotate();
        }
        assertEquals("kept past keep while needed", 5, f.files().size());
        assertEquals(0, f.droppedNeeded());
        for (int i = 4; i < 7; i++) {
            f.append("line " + i + "\n");
            f.rotate();
        }
        assertEquals("the bound holds", 6, f.files().size());
        assertEquals(2, f.droppedNeeded());
        needed[0] = false;
        f.append("line 7\n");
        f.rotate();
        assertEquals("shipped: back to keep", 3, f.files().size());
        f.close();
    }

    /** A line the writer would not write is refused whole: the batch stores nothing. */
    @Test
    public void linesNotInTheWritersFormAreRefused() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter alone = new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 10, 1 << 20, 3, 1000, 60_000),
                "n-bad", () -> null, () -> { });
        for (int i = 0; i < 3; i++) {
            alone.record(fetch("acct:variable:bad/" + i));
        }
        alone.stop();
        List<String> lines = Files.readAllLines(dir.resolve(AuditWriter.JSON_FILE));
        TableStore table = new TableStore(db::dataSource);
        String edited = lines.get(1).replace("acct:variable:bad/1", "acct:variable:bad/X");
        String secret = lines.get(1).replace("\"resource\":", "\"value\":\"s3cret\",\"resource\":");
        for (List<String> bad : List.of(List.of(lines.get(0), lines.get(2)), List.of(lines.get(0), "{}"),
                List.of(secret), List.of(lines.get(0) + " "), List.of("not json at all"))) {
            try {
                table.store("n-bad", bad);
                fail("stored " + bad);
            } catch (io.coffer.api.audit.AuditStore.AuditStoreException e) {
                assertEquals(e.getMessage(), "bad_lines", e.code());
            }
        }
        // An edited line in the writer's form is stored (its MAC no longer matches: the verifier's business).
        assertEquals(2, table.store("n-bad", List.of(lines.get(0), edited)));
        assertEquals(0, count("node = 'n-bad' AND message LIKE '%s3cret%'"));
        assertEquals(2, count("node = 'n-bad'"));
    }

    private static List<Path> filesOf(Path dir) {
        List<Path> out = new ArrayList<>();
        for (int i = 60; i >= 1; i--) {
            Path p = dir.resolve(AuditWriter.JSON_FILE + "." + i);
            if (Files.exists(p)) {
                out.add(p);
            }
        }
        out.add(dir.resolve(AuditWriter.JSON_FILE));
        return out;
    }

    @Test
    public void filesRotateBySize() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 100, 2_000, () -> { });
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
        // The writer thread tells the shipper of each batch: holding it there stalls the drain.
        AuditWriter w = writer(dir, 5, 1 << 20, () -> {
            blocked.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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
