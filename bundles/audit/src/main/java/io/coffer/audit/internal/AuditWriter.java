package io.coffer.audit.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.crypto.Mac;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditOverloadedException;
import io.coffer.api.health.ComponentHealth;

/**
 * The bounded queue and its one writer thread. Each batch goes to the JSON-lines file and is fsynced (group commit)
 * before anything else, then to the RFC 5424 text file; the {@link AuditShipper} takes it from the JSON file to the
 * Leader's {@code audit_events} (the files are the spool). A batch the JSON file can't take is retried until it can, so the queue fills and callers get
 * {@link AuditOverloadedException} (503) rather than an unrecorded action.
 *
 * <p>The JSON lines form the node's tamper-evident chain ({@link Chain}), continued across restarts and rotated
 * files, with signed {@link Checkpoint}s written into it: at start, every {@code checkpointEvents} events or
 * {@code checkpointMillis} with events, as the first line of each rotated-to file, and at a clean stop.
 */
final class AuditWriter {
    static final String JSON_FILE = "audit.json";
    static final String TEXT_FILE = "audit.log";
    private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);

    /** Sizes and periods, from the component's configuration. */
    record Settings(int capacity, long offerWaitMillis, int batchMax, long fileMaxBytes, int fileKeep,
            long checkpointEvents, long checkpointMillis, int spoolMaxFiles) {
        Settings(int capacity, long offerWaitMillis, int batchMax, long fileMaxBytes, int fileKeep,
                long checkpointEvents, long checkpointMillis) {
            this(capacity, offerWaitMillis, batchMax, fileMaxBytes, fileKeep, checkpointEvents, checkpointMillis,
                    fileKeep);
        }
    }

    private final BlockingQueue<AuditEvent> queue;
    private final Settings settings;
    /** Told each time lines are fsynced: the shipper takes them from the files to the audit table. */
    private final Runnable durable;
    private final String node;
    private final Supplier<ChainKeys> keys;
    private final RotatingFile json;
    private final RotatingFile text;
    private final Chain chain;
    private final Thread thread;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile Instant lastWrite;
    private volatile String lastError;
    private volatile boolean fileFailing;
    private volatile boolean running = true;
    private volatile long lastSeq;
    private volatile long rotations;
    private volatile boolean keyed;
    /** What the start checkpoint will say about the previous run; {@code null} once it is written. */
    private String startPrevious;
    private long sinceCheckpoint;
    private long lastCheckpointAt = System.currentTimeMillis();
    private ChainKeys macKeys;
    private Mac mac;

    AuditWriter(Path dir, Settings settings, String node, Supplier<ChainKeys> keys, Runnable durable)
            throws IOException {
        this(dir, settings, node, keys, durable, () -> Long.MAX_VALUE);
    }

    /**
     * @param shipped the highest seq the shipper has delivered: a rotated JSON file with a line past it is kept (the
     *     files are the spool), up to {@code spoolMaxFiles}
     */
    AuditWriter(Path dir, Settings settings, String node, Supplier<ChainKeys> keys, Runnable durable,
            java.util.function.LongSupplier shipped) throws IOException {
        Files.createDirectories(dir);
        this.settings = settings;
        this.queue = new ArrayBlockingQueue<>(settings.capacity());
        this.durable = durable;
        this.node = node;
        this.keys = keys;
        this.json = new RotatingFile(dir.resolve(JSON_FILE), settings.fileMaxBytes(), settings.fileKeep(),
                settings.spoolMaxFiles(), f -> {
                    try {
                        return ChainTail.read(List.of(f)).seq() > shipped.getAsLong();
                    } catch (IOException e) {
                        return true;
                    }
                });
        this.text = new RotatingFile(dir.resolve(TEXT_FILE), settings.fileMaxBytes(), settings.fileKeep());
        ChainTail tail = ChainTail.read(json.files());
        if (tail.torn()) {
            // A crash cut the last line: end it, so the chain goes on from a line boundary (the start checkpoint
            // says "torn", and the verifier reports the fragment as such).
            json.append("\n".getBytes(StandardCharsets.US_ASCII));
            json.sync();
        }
        this.chain = new Chain(tail.seq(), tail.link());
        this.lastSeq = tail.seq();
        this.startPrevious = tail.previous();
        this.thread = new Thread(this::run, "coffer-audit-writer");
        thread.setDaemon(true);
        thread.start();
    }

    void record(AuditEvent event) {
        boolean queued;
        try {
            queued = running && queue.offer(event, settings.offerWaitMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            queued = false;
        }
        if (!queued) {
            rejected.incrementAndGet();
            throw new AuditOverloadedException("audit queue full (" + queue.size() + " events) for "
                    + settings.offerWaitMillis() + " ms");
        }
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(settings.batchMax());
        while (running || !queue.isEmpty()) {
            try {
                AuditEvent first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, settings.batchMax() - 1);
                }
                if (!batch.isEmpty() || checkpointDue()) {
                    writeFiles(batch, null);
                    batch.clear();
                    durable.run();
                }
            } catch (InterruptedException e) {
                // stop() interrupts only to end the poll: the loop drains what is left.
                running = false;
            }
        }
        writeFiles(List.of(), "stop");
        durable.run();
    }

    /** The keys, once the node has them; a writer keeps them to the end so its stop checkpoint can be signed. */
    private ChainKeys keys() {
        if (macKeys == null) {
            ChainKeys k = keys.get();
            if (k != null) {
                macKeys = k;
                mac = k.mac();
                keyed = true;
            }
        }
        return macKeys;
    }

    private boolean checkpointDue() {
        return keys() != null && (startPrevious != null
                || sinceCheckpoint > 0 && System.currentTimeMillis() - lastCheckpointAt >= settings.checkpointMillis());
    }

    /** Retries the batch until both files took it: an event leaves the queue only to be written. */
    private List<Formatted> writeFiles(List<AuditEvent> batch, String closing) {
        List<Formatted> events = new ArrayList<>(batch.size());
        for (AuditEvent e : batch) {
            events.add(Formatted.of(e));
        }
        boolean rotated = false;
        for (int attempt = 0;; attempt++) {
            long seq0 = chain.seq();
            byte[] link0 = chain.link();
            try {
                Lines out = chained(events, closing, rotated);
                if (!rotated && json.needsRotation(out.json.length)) {
                    // The new file starts with a checkpoint of where the old one ended, so each file can be checked
                    // on its own once older ones are rotated away, and a tail cut off a rotated file shows.
                    chain.reset(seq0, link0);
                    json.rotate();
                    rotations++;
                    rotated = true;
                    out = chained(events, closing, true);
                }
                json.append(out.json);
                json.sync();
                text.append(out.text);
                text.sync();
                written.addAndGet(batch.size());
                lastWrite = Instant.now();
                lastSeq = chain.seq();
                fileFailing = false;
                if (out.checkpointed) {
                    sinceCheckpoint = out.afterCheckpoint;
                    lastCheckpointAt = System.currentTimeMillis();
                } else {
                    sinceCheckpoint += out.afterCheckpoint;
                }
                if (out.started) {
                    startPrevious = null;
                }
                return out.formatted;
            } catch (IOException e) {
                chain.reset(seq0, link0);
                fail("audit files", e);
                fileFailing = true;
                if (!running && closing != null && attempt >= 3) {
                    return List.of(); // stopping: the events themselves were written; only the stop checkpoint is lost
                }
                try {
                    Thread.sleep(Math.min(5_000, 100L << Math.min(attempt, 6)));
                } catch (InterruptedException ie) {
                    running = false;
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A batch's stored lines: the JSON with chain fields, the text, and the events (checkpoints included). */
    private static final class Lines {
        final List<Formatted> formatted = new ArrayList<>();
        byte[] json;
        final StringBuilder text = new StringBuilder();
        boolean checkpointed;
        boolean started;
        /** Events after the batch's last checkpoint (all of them when it has none). */
        long afterCheckpoint;
    }

    private Lines chained(List<Formatted> events, String closing, boolean rotated) {
        Lines out = new Lines();
        StringBuilder j = new StringBuilder(events.size() * 450 + 1024);
        ChainKeys k = keys();
        if (k != null && rotated) {
            add(out, j, checkpoint(k, "rotate", null));
        }
        if (k != null && startPrevious != null) {
            add(out, j, checkpoint(k, "start", startPrevious));
            out.started = true;
        }
        for (Formatted f : events) {
            add(out, j, f);
        }
        long since = sinceCheckpoint + events.size();
        if (k != null && (closing != null || since >= settings.checkpointEvents()
                || since > 0 && System.currentTimeMillis() - lastCheckpointAt >= settings.checkpointMillis())) {
            add(out, j, checkpoint(k, closing != null ? closing : "periodic", null));
        }
        out.json = j.toString().getBytes(StandardCharsets.UTF_8);
        return out;
    }

    private void add(Lines out, StringBuilder j, Formatted f) {
        j.append(chain.append(f.json(), keys() != null ? mac : null)).append('\n');
        out.text.append(f.line()).append('\n');
        out.formatted.add(f.at(chain.seq()));
        if (Checkpoint.MSGID.equals(f.event().msgid())) {
            out.checkpointed = true;
            out.afterCheckpoint = 0;
        } else {
            out.afterCheckpoint++;
        }
    }

    /** A checkpoint of the chain as it stands: the last line's seq and link, signed. */
    private Formatted checkpoint(ChainKeys k, String reason, String previous) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Checkpoint.Fields unsigned = new Checkpoint.Fields(node, reason, chain.seq(), Chain.HEX.formatHex(chain.link()),
                previous, Rfc5424.TIMESTAMP.format(now), k.keyId(), null);
        Checkpoint.Fields f = new Checkpoint.Fields(node, reason, unsigned.seq(), unsigned.mac(), previous,
                unsigned.time(), k.keyId(), k.sign(unsigned));
        return Formatted.of(Checkpoint.event(f, now));
    }

    private void fail(String what, Exception e) {
        errors.incrementAndGet();
        lastError = what + ": " + e.getClass().getSimpleName();
        LOG.error("{} write failed", what, e);
    }

    /** Stops taking events, writes what is queued and the stop checkpoint, closes the files. */
    void stop() throws IOException, InterruptedException {
        running = false;
        thread.join(10_000);
        if (thread.isAlive()) {
            thread.interrupt();
            thread.join(5_000);
        }
        json.close();
        text.close();
    }

    /** @return the seq of the last line written and fsynced: the file must reach at least this far */
    long lastSeq() {
        return lastSeq;
    }

    /** @return how many times the JSON file rotated; a verification that saw it change reads the files again */
    long rotations() {
        return rotations;
    }

    /** @return the JSON files, oldest first */
    List<Path> jsonFiles() {
        return json.files();
    }

    ComponentHealth health() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("queue_depth", queue.size());
        d.put("queue_capacity", settings.capacity());
        d.put("written", written.get());
        d.put("rejected", rejected.get());
        if (lastWrite != null) {
            d.put("last_write", Rfc5424.TIMESTAMP.format(lastWrite));
        }
        d.put("chain_seq", lastSeq);
        if (json.droppedNeeded() > 0) {
            d.put("spool_files_dropped_unshipped", json.droppedNeeded());
        }
        d.put("chain_keyed", keyed);
        d.put("errors", errors.get());
        if (lastError != null) {
            d.put("last_error", lastError);
        }
        if (fileFailing || !thread.isAlive()) {
            d.put("error", fileFailing ? "the audit files can't be written" : "the audit writer stopped");
            return ComponentHealth.failed(d);
        }
        return ComponentHealth.ok(d);
    }
}
