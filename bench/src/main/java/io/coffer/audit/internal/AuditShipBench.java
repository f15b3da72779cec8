package io.coffer.audit.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.coffer.api.audit.AuditEvent;
import io.coffer.store.internal.TestDatabase;

/**
 * What taking the table's rows from the files costs: {@code EVENTS} fetch events, already in a node's JSON file,
 * stored into a real PostgreSQL's {@code audit_events} in batches of 500 — {@code ship}: as the shipper does it (read
 * the file from a seq, rebuild and re-render each line to check it is the writer's, insert); {@code insert}: the
 * earlier path, inserting events the writer had already rendered. One shot per iteration (ms for all of them); the
 * table is emptied between iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(1)
public class AuditShipBench {
    static final int EVENTS = 20_000;
    static final int BATCH = 500;
    @Param({"ship", "insert"})
    public String path;
    private TestDatabase db;
    private Path dir;
    private List<Formatted> rendered;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        db = new TestDatabase();
        dir = Files.createTempDirectory("coffer-jmh-ship");
        ChainKeys keys = new ChainKeys(new byte[32], new byte[32]);
        AuditWriter writer = new AuditWriter(dir, new AuditWriter.Settings(EVENTS + 10, 1000, BATCH,
                1L << 30, 2, Long.MAX_VALUE, Long.MAX_VALUE), "bench", () -> keys, () -> { });
        for (int i = 0; i < EVENTS; i++) {
            writer.record(AuditEvent.builder("fetch", "fetch", true)
                    .request("0f8fad5b-d9cb-469f-a165-70867728950e", "127.0.0.1").user("demo:host:bench/app")
                    .subject("resource", "demo:variable:bench/v" + (i % 100)).build());
        }
        writer.stop();
        rendered = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(AuditWriter.JSON_FILE))) {
            if (Chain.parse(line) != null) {
                rendered.add(ChainedLine.parse(line));
            }
        }
    }

    @Setup(Level.Iteration)
    public void empty() throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE audit_events");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        db.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public long run() throws Exception {
        if ("insert".equals(path)) {
            for (int from = 0; from < rendered.size(); from += BATCH) {
                AuditTable.insertFormatted(db.dataSource(), rendered.subList(from, Math.min(rendered.size(),
                        from + BATCH)), "bench");
            }
            return rendered.size();
        }
        TableStore store = new TableStore(db::dataSource);
        long stored = 0;
        try (SpoolReader reader = new SpoolReader(() -> List.of(dir.resolve(AuditWriter.JSON_FILE)),
                dir.resolve(AuditWriter.JSON_FILE))) {
            reader.seek(1);
            for (List<SpoolReader.Line> lines; !(lines = reader.next(BATCH, Long.MAX_VALUE)).isEmpty();) {
                List<String> texts = new ArrayList<>(lines.size());
                lines.forEach(l -> texts.add(l.text()));
                stored = store.store("bench", texts);
            }
        }
        return stored;
    }
}
