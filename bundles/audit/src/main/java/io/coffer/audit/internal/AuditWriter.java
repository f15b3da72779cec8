package io.coffer.audit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditOverloadedException;
import io.coffer.api.health.ComponentHealth;

/**
 * The bounded queue and its one writer thread. Each batch goes to the JSON-lines file and is fsynced (group commit)
 * before anything else; then to the RFC 5424 text file; then, when a writable database is there, to
 * {@code audit_events}. A batch the JSON file can't take is retried until it can, so the queue fills and callers get
 * {@link AuditOverloadedException} (503) rather than an unrecorded action.
 */
final class AuditWriter {
    static final String JSON_FILE = "audit.json";
    static final String TEXT_FILE = "audit.log";
    private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);

    private final BlockingQueue<AuditEvent> queue;
    private final int capacity;
    private final long offerWaitMillis;
    private final int batchMax;
    private final Supplier<DataSource> database;
    private final RotatingFile json;
    private final RotatingFile text;
    /** Events in the files but not yet in the table (the database failed); bounded by the queue's capacity. */
    private final List<Formatted> dbPending = new ArrayList<>();
    private final Thread thread;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile Instant lastWrite;
    private volatile String lastError;
    private volatile boolean fileFailing;
    private volatile boolean running = true;
    private long dbRetryAt;

    AuditWriter(Path dir, int capacity, long offerWaitMillis, int batchMax, long fileMaxBytes, int fileKeep,
            Supplier<DataSource> database) throws IOException {
        Files.createDirectories(dir);
        this.capacity = capacity;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.offerWaitMillis = offerWaitMillis;
        this.batchMax = batchMax;
        this.database = database;
        this.json = new RotatingFile(dir.resolve(JSON_FILE), fileMaxBytes, fileKeep);
        this.text = new RotatingFile(dir.resolve(TEXT_FILE), fileMaxBytes, fileKeep);
        this.thread = new Thread(this::run, "coffer-audit-writer");
        thread.setDaemon(true);
        thread.start();
    }

    void record(AuditEvent event) {
        boolean queued;
        try {
            queued = running && queue.offer(event, offerWaitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            queued = false;
        }
        if (!queued) {
            rejected.incrementAndGet();
            throw new AuditOverloadedException("audit queue full (" + queue.size() + " events) for "
                    + offerWaitMillis + " ms");
        }
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(batchMax);
        while (running || !queue.isEmpty()) {
            try {
                AuditEvent first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, batchMax - 1);
                    dbPending.addAll(writeFiles(batch));
                    batch.clear();
                }
                writeDatabase();
            } catch (InterruptedException e) {
                // stop() interrupts only to end the poll: the loop drains what is left.
                running = false;
            }
        }
        writeDatabase();
    }

    /** Retries the batch until both files took it: an event leaves the queue only to be written. */
    private List<Formatted> writeFiles(List<AuditEvent> batch) {
        List<Formatted> formatted = new ArrayList<>(batch.size());
        StringBuilder j = new StringBuilder(batch.size() * 400);
        StringBuilder t = new StringBuilder(batch.size() * 400);
        for (AuditEvent e : batch) {
            Formatted f = Formatted.of(e);
            formatted.add(f);
            j.append(f.json()).append('\n');
            t.append(f.line()).append('\n');
        }
        for (int attempt = 0;; attempt++) {
            try {
                json.append(j);
                json.sync();
                text.append(t);
                text.sync();
                written.addAndGet(batch.size());
                lastWrite = Instant.now();
                fileFailing = false;
                return formatted;
            } catch (IOException e) {
                fail("audit files", e);
                fileFailing = true;
                try {
                    Thread.sleep(Math.min(5_000, 100L << Math.min(attempt, 6)));
                } catch (InterruptedException ie) {
                    running = false;
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private void writeDatabase() {
        DataSource ds = database.get();
        if (dbPending.isEmpty() || System.currentTimeMillis() < dbRetryAt) {
            return;
        }
        if (ds == null) {
            // No database on this node (not ready, or no store): the files hold the events.
            dbPending.clear();
            return;
        }
        try {
            for (int from = 0; from < dbPending.size(); from += batchMax) {
                if (!AuditTable.insertFormatted(ds, dbPending.subList(from, Math.min(dbPending.size(), from + batchMax)))) {
                    break; // a replica: its events are forwarded to the Leader (later slice), not stored here
                }
            }
            dbPending.clear();
        } catch (SQLException | RuntimeException e) {
            fail("audit table", e);
            dbRetryAt = System.currentTimeMillis() + 1_000;
            int over = dbPending.size() - capacity;
            if (over > 0) {
                LOG.error("audit table unavailable: {} events stay in the audit files only", over);
                dbPending.subList(0, over).clear();
            }
        }
    }

    private void fail(String what, Exception e) {
        errors.incrementAndGet();
        lastError = what + ": " + e.getClass().getSimpleName();
        LOG.error("{} write failed", what, e);
    }

    /** Stops taking events, writes what is queued, closes the files. */
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

    ComponentHealth health() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("queue_depth", queue.size());
        d.put("queue_capacity", capacity);
        d.put("written", written.get());
        d.put("rejected", rejected.get());
        if (lastWrite != null) {
            d.put("last_write", Rfc5424.TIMESTAMP.format(lastWrite));
        }
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
