package io.coffer.audit.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.coffer.api.audit.AuditEvent;

/**
 * What a request pays to audit one fetch: building the event and handing it to the bounded queue, while the
 * writer thread drains it to the JSON and text files (fsynced per batch) as on a Follower. When the producer is
 * faster than the disk, this measures the backpressure too: that is the point. {@code chained}: with the node's
 * audit keys (HMAC chain and signed checkpoints, as an unlocked node writes) or without (hash links, a locked node).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AuditEnqueueBench {
    @Param({"true", "false"})
    public boolean chained;
    private AuditWriter writer;
    private Path dir;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("coffer-jmh-audit");
        ChainKeys keys = chained ? new ChainKeys(new byte[32], new byte[32]) : null;
        writer = new AuditWriter(dir, new AuditWriter.Settings(10_000, 200, 500, 50L * 1024 * 1024, 2, 1000, 60_000),
                "bench", () -> keys, () -> { });
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        writer.stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public void fetchEvent() {
        writer.record(AuditEvent.builder("fetch", "fetch", true)
                .request("0f8fad5b-d9cb-469f-a165-70867728950e", "127.0.0.1")
                .user("demo:host:bench/app")
                .subject("resource", "demo:variable:bench/v0")
                .build());
    }
}
