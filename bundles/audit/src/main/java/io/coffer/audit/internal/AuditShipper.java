package io.coffer.audit.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.AuditStore;
import io.coffer.api.audit.AuditStore.AuditStoreException;
import io.coffer.api.net.NodeTls;

/**
 * Takes the node's chain from its files to the Leader's {@code audit_events}, in order, each event once: into the
 * node's own database while it is writable (the Leader), else over the audit stream to the Leader's receiver. The
 * destination says how far it has the chain (the highest seq stored, which survives a failover with the replicated
 * table), the shipper goes on from there in the files, and a batch counts as delivered only once the destination's
 * commit acknowledged it. Nothing here is on a request's path: the writer has fsynced the lines before they are read.
 *
 * <p>The audit stream (one TLS 1.3 connection, both sides with certificates from the cluster CA; the receiver names
 * the sender by its certificate): the receiver greets with {@code COFFER-AUDIT 1 <stored seq>}; the sender sends
 * {@code BATCH <n>} and n lines; the receiver answers {@code ACK <seq>} after its commit, or {@code ERR <code> <text>}
 * and closes.
 */
final class AuditShipper {
    static final String GREETING = "COFFER-AUDIT 1 ";
    private static final Logger LOG = LoggerFactory.getLogger(AuditShipper.class);

    /** Where remote lines go; {@code host} empty: nowhere (the node's own table only). */
    record Target(String host, int port, int connectTimeoutMs, int readTimeoutMs) {
        boolean configured() {
            return host != null && !host.isBlank() && port > 0;
        }
    }

    private final String node;
    private final SpoolReader reader;
    private final LongSupplier durable;
    private final TableStore local;
    private final Supplier<NodeTls> tls;
    private final Target target;
    private final int batchMax;
    private final Object signal = new Object();
    private final Thread thread;
    private final AtomicLong shipped = new AtomicLong();
    private volatile boolean running = true;
    private volatile String mode = "starting";
    private volatile long acked = -1;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile long errors;
    private boolean synced;
    private long backoff;
    /** A batch had a refused line: lines go one at a time through this seq, to find it. */
    private long singlesUntil;
    /** Lines through this seq that the destination refused (not in the writer's form): skipped, a gap there. */
    private long skipThrough;
    private final AtomicLong skipped = new AtomicLong();
    private SSLSocket socket;
    private BufferedReader in;
    private OutputStream out;

    AuditShipper(String node, SpoolReader reader, LongSupplier durable, TableStore local, Supplier<NodeTls> tls,
            Target target, int batchMax) {
        this.node = node;
        this.reader = reader;
        this.durable = durable;
        this.local = local;
        this.tls = tls;
        this.target = target;
        this.batchMax = batchMax;
        this.thread = new Thread(this::run, "coffer-audit-shipper");
        thread.setDaemon(true);
        thread.start();
    }

    /** The writer made more lines durable. */
    void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void run() {
        while (running) {
            try {
                if (!synced) {
                    sync();
                }
                List<SpoolReader.Line> lines = synced
                        ? reader.next(acked < singlesUntil ? 1 : batchMax, durable.getAsLong()) : List.of();
                if (lines.isEmpty()) {
                    await(synced ? 1_000 : backoff());
                    continue;
                }
                List<String> texts = new ArrayList<>(lines.size());
                lines.forEach(l -> texts.add(l.text()));
                try {
                    acked = socket != null ? sendRemote(texts) : local.store(node, texts);
                } catch (AuditStoreException e) {
                    if (AuditStoreException.BAD_LINES.equals(e.code())) {
                        refused(lines, e);
                    }
                    throw e;
                }
                shipped.addAndGet(lines.size());
                backoff = 0;
            } catch (AuditStoreException | IOException | RuntimeException | java.security.GeneralSecurityException e) {
                failed(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
        disconnect();
        try {
            reader.close();
        } catch (IOException e) {
            LOG.debug("closing the audit spool reader", e);
        }
    }

    /**
     * A line the destination refuses (edited, or written by a writer of another form) must not stop the lines after
     * it: the batch is sent again one line at a time, and the refused line is skipped — the table then lacks that
     * seq, which verification reports as the gap it is.
     */
    private void refused(List<SpoolReader.Line> lines, AuditStoreException e) {
        long last = lines.get(lines.size() - 1).seq();
        if (lines.size() > 1) {
            singlesUntil = Math.max(singlesUntil, last);
            return;
        }
        skipThrough = Math.max(skipThrough, last);
        skipped.incrementAndGet();
        LOG.error("audit line {} of node {} was refused ({}): skipped; the stored chain has a gap there", last, node,
                e.getMessage());
    }

    /** Finds the destination and how far it has this node's chain. */
    private void sync() throws AuditStoreException, IOException, java.security.GeneralSecurityException,
            InterruptedException {
        disconnect();
        long stored;
        try {
            stored = local.storedSeq(node);
            mode = "local";
        } catch (AuditStoreException e) {
            if (!AuditStoreException.NOT_LEADER.equals(e.code())) {
                throw e; // the database is not there yet, or failing: asked again after a pause
            }
            if (!target.configured()) {
                mode = "files-only";
                await(5_000); // a replica with nowhere to send: its files keep the events
                return;
            }
            stored = connect();
            mode = "forwarding";
        }
        long mine = durable.getAsLong();
        if (stored > mine) {
            // The destination has more of a chain by this name than the files: a node rebuilt under an old name.
            // Its lines are sent from the start (stored by id, so nothing is stored twice), and it is said.
            LOG.error("the audit destination holds seq {} of node {}, whose files end at {}: sending them all", stored,
                    node, mine);
            stored = 0;
        }
        // Lines refused before are passed over (the destination stays at the line before them).
        long from = stored < skipThrough && skipThrough <= mine ? skipThrough : stored;
        reader.seek(from + 1);
        acked = from;
        synced = true;
    }

    private long connect() throws IOException, java.security.GeneralSecurityException {
        NodeTls t = tls.get();
        if (t == null) {
            throw new IOException("no node certificate service");
        }
        SSLContext ctx = t.context();
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
        try {
            s.setEnabledProtocols(new String[] {"TLSv1.3"});
            s.connect(new InetSocketAddress(target.host(), target.port()), target.connectTimeoutMs());
            s.setSoTimeout(target.readTimeoutMs());
            s.startHandshake();
            if (t.peerName(s.getSession()) == null) {
                throw new IOException("the audit receiver's certificate names no node");
            }
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8), 8192);
            out = s.getOutputStream();
            String hello = in.readLine();
            if (hello == null || !hello.startsWith(GREETING)) {
                throw new IOException("the audit receiver answered " + describe(hello));
            }
            socket = s;
            return Long.parseLong(hello.substring(GREETING.length()).trim());
        } catch (NumberFormatException e) {
            s.close();
            throw new IOException("bad greeting", e);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private long sendRemote(List<String> lines) throws IOException, AuditStoreException {
        StringBuilder b = new StringBuilder(lines.size() * 600 + 16).append("BATCH ").append(lines.size()).append('\n');
        for (String l : lines) {
            b.append(l).append('\n');
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        String answer = in.readLine();
        if (answer != null && answer.startsWith("ERR " + AuditStoreException.BAD_LINES)) {
            throw new AuditStoreException(AuditStoreException.BAD_LINES, answer.substring(4), null);
        }
        if (answer == null || !answer.startsWith("ACK ")) {
            throw new IOException("the audit receiver answered " + describe(answer));
        }
        try {
            return Long.parseLong(answer.substring(4).trim());
        } catch (NumberFormatException e) {
            throw new IOException("bad acknowledgement", e);
        }
    }

    private static String describe(String line) {
        if (line == null) {
            return "nothing (closed)";
        }
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }

    private void failed(Exception e) {
        errors++;
        lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
        lastErrorAt = Instant.now();
        if (errors == 1 || errors % 20 == 0) {
            LOG.warn("audit shipping ({}) failed: {}; the events stay in the audit files and are sent later", mode,
                    lastError);
        }
        synced = false; // what the destination has is asked again: it may have changed (a failover)
        disconnect();
        try {
            await(backoff());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private long backoff() {
        backoff = backoff == 0 ? 250 : Math.min(5_000, backoff * 2);
        return backoff;
    }

    private void await(long millis) throws InterruptedException {
        synchronized (signal) {
            if (running) {
                signal.wait(millis);
            }
        }
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing the audit stream", e);
            }
            socket = null;
            in = null;
            out = null;
        }
    }

    void stop() throws InterruptedException {
        running = false;
        wake();
        thread.interrupt();
        thread.join(5_000);
    }

    /**
     * @return the highest seq delivered (rotated files up to it may go); -1 while unknown (all are kept); everything
     *     when this node ships nowhere (a replica without a target: its files are the only record, kept by count)
     */
    long shippedSeq() {
        if ("files-only".equals(mode)) {
            return Long.MAX_VALUE;
        }
        return acked;
    }

    /** @return whether lines the writer made durable are not yet acknowledged by the destination */
    boolean behind() {
        return synced && acked < durable.getAsLong();
    }

    Map<String, Object> health() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mode", mode);
        if (target.configured()) {
            d.put("target", target.host() + ":" + target.port());
        }
        long a = acked;
        if (a >= 0) {
            d.put("delivered_seq", a);
            d.put("backlog", Math.max(0, durable.getAsLong() - a));
        }
        d.put("shipped", shipped.get());
        if (skipped.get() > 0) {
            d.put("refused_lines_skipped", skipped.get());
        }
        d.put("errors", errors);
        if (lastError != null) {
            d.put("last_error", lastError);
            d.put("last_error_at", Rfc5424.TIMESTAMP.format(lastErrorAt));
        }
        return d;
    }
}
