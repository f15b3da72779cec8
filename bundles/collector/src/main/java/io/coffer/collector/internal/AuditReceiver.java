package io.coffer.collector.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.AuditStore;
import io.coffer.api.audit.AuditStore.AuditStoreException;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.net.NodeTls;

/**
 * The Leader's end of the audit stream (Conjur's port 1999): nodes send their chains here, through the cluster load
 * balancer's audit frontend. TLS 1.3 with a client certificate from the cluster CA is required, and the certificate's
 * name is the node whose chain the lines are stored as — a node can't send another's events. Each batch is stored
 * in one transaction and acknowledged only after the commit (synchronous to the sync Standby), so an acknowledged
 * event survives a failover; the greeting tells the sender the highest seq stored, so it goes on from there and
 * nothing is stored twice (and the event id is the table's key besides).
 */
@Component(service = {AuditReceiver.class, HealthCheck.class}, immediate = true,
        configurationPid = AuditReceiver.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = AuditReceiver.Config.class)
public class AuditReceiver implements HealthCheck {
    static final String PID = "io.coffer.collector";
    static final String GREETING = "COFFER-AUDIT 1 ";
    private static final Logger LOG = LoggerFactory.getLogger(AuditReceiver.class);

    @ObjectClassDefinition(name = "Coffer audit receiver", description = "The Leader's audit stream")
    public @interface Config {
        @AttributeDefinition(description = "Address the audit stream listens on")
        String host() default "127.0.0.1";

        @AttributeDefinition(description = "Port of the audit stream (Conjur's 1999); 0 = any free port")
        int port() default 1999;

        @AttributeDefinition(description = "Connections served at once; more are refused")
        int max_connections() default 64;

        @AttributeDefinition(description = "Lines one batch may hold")
        int max_batch() default 1000;

        @AttributeDefinition(description = "Bytes one line may hold")
        int max_line_bytes() default 1 << 20;

        @AttributeDefinition(description = "A connection silent this long is closed (ms)")
        int idle_timeout_ms() default 120_000;
    }

    private final AuditStore store;
    private final NodeTls tls;
    private final Config config;
    private final ServerSocket server;
    private final ExecutorService pool;
    private final Thread acceptor;
    /** The open connection of each node: a new one from the same node replaces it (the sender reconnected). */
    private final Map<String, Socket> current = new ConcurrentHashMap<>();
    private final Map<String, Object> nodeLocks = new ConcurrentHashMap<>();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile boolean running = true;

    @Activate
    public AuditReceiver(Config config, @Reference AuditStore store, @Reference NodeTls tls) throws Exception {
        this.store = store;
        this.tls = tls;
        this.config = config;
        SSLServerSocket s = (SSLServerSocket) tls.context().getServerSocketFactory()
                .createServerSocket(config.port(), 50, InetAddress.getByName(config.host()));
        s.setNeedClientAuth(true);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        this.server = s;
        this.pool = new ThreadPoolExecutor(0, Math.max(1, config.max_connections()), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "coffer-audit-receiver");
                    t.setDaemon(true);
                    return t;
                });
        this.acceptor = new Thread(this::accept, "coffer-audit-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("audit stream listening on {}:{}", config.host(), s.getLocalPort());
    }

    /** @return the port listened on (the configured one, or the one chosen for port 0) */
    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (running) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (running) {
                    error("accept", e);
                }
                continue;
            }
            try {
                pool.execute(() -> serve((SSLSocket) s));
            } catch (RejectedExecutionException e) {
                refused.incrementAndGet();
                close(s);
            }
        }
    }

    private void serve(SSLSocket s) {
        String node = null;
        try {
            s.setSoTimeout(config.idle_timeout_ms());
            s.startHandshake();
            node = tls.peerName(s.getSession());
            if (node == null) {
                refused.incrementAndGet();
                LOG.warn("audit stream from {}: the certificate names no node; closed", s.getRemoteSocketAddress());
                return;
            }
            Socket previous = current.put(node, s);
            if (previous != null) {
                close(previous); // the node reconnected: its old connection can't be acknowledged any more
            }
            OutputStream out = s.getOutputStream();
            BoundedLines in = new BoundedLines(new BufferedInputStream(s.getInputStream(), 64 * 1024),
                    config.max_line_bytes());
            long stored;
            synchronized (lock(node)) {
                stored = store.storedSeq(node);
            }
            send(out, GREETING + stored);
            for (String header; (header = in.next()) != null;) {
                int n = batchSize(header);
                List<String> lines = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    String line = in.next();
                    if (line == null) {
                        throw new IOException("the stream ended inside a batch");
                    }
                    lines.add(line);
                }
                long acked;
                synchronized (lock(node)) {
                    if (current.get(node) != s) {
                        return; // replaced while reading: the new connection goes on from what is stored
                    }
                    acked = store.store(node, lines);
                }
                received.addAndGet(n);
                send(out, "ACK " + acked);
            }
        } catch (AuditStoreException e) {
            if (!AuditStoreException.NOT_LEADER.equals(e.code())) {
                error(node + ": " + e.code(), e);
            }
            try {
                send(s.getOutputStream(), "ERR " + e.code() + " " + oneLine(e.getMessage()));
            } catch (IOException ignored) {
                // the peer is gone; it asks again where the chain stands when it reconnects
            }
        } catch (ProtocolException e) {
            refused.incrementAndGet();
            error(node + ": protocol", e);
            try {
                send(s.getOutputStream(), "ERR protocol " + oneLine(e.getMessage()));
            } catch (IOException ignored) {
                // closing anyway
            }
        } catch (SocketException e) {
            LOG.debug("audit stream from {} closed: {}", node, e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (running) {
                error(node == null ? "handshake" : node, e);
            }
        } finally {
            if (node != null) {
                current.remove(node, s);
            }
            close(s);
        }
    }

    private Object lock(String node) {
        return nodeLocks.computeIfAbsent(node, k -> new Object());
    }

    private int batchSize(String header) throws ProtocolException {
        if (!header.startsWith("BATCH ") || header.length() > 16) {
            throw new ProtocolException("expected BATCH <n>");
        }
        int n;
        try {
            n = Integer.parseInt(header.substring(6));
        } catch (NumberFormatException e) {
            throw new ProtocolException("expected BATCH <n>");
        }
        if (n < 1 || n > config.max_batch()) {
            throw new ProtocolException("a batch holds 1 to " + config.max_batch() + " lines");
        }
        return n;
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replaceAll("[\\p{Cntrl}]", " ");
        return t.length() > 300 ? t.substring(0, 300) : t;
    }

    private void error(String what, Exception e) {
        lastError = what + ": " + e.getClass().getSimpleName() + " " + oneLine(e.getMessage());
        lastErrorAt = Instant.now();
        LOG.warn("audit stream: {}", lastError);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            LOG.debug("closing an audit stream", e);
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the audit stream's listener", e);
        }
        current.values().forEach(AuditReceiver::close);
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
        acceptor.join(5_000);
    }

    @Override
    public String name() {
        return "audit-receiver";
    }

    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("port", server.getLocalPort());
        d.put("senders", new ArrayList<>(current.keySet()));
        d.put("received", received.get());
        d.put("refused", refused.get());
        if (lastError != null) {
            d.put("last_error", lastError);
            d.put("last_error_at", lastErrorAt.toString());
        }
        return server.isClosed() ? ComponentHealth.failed(d) : ComponentHealth.ok(d);
    }

    /** The peer broke the protocol: it is told why and cut off. */
    static final class ProtocolException extends Exception {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }
}
