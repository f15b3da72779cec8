package io.coffer.collector.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.sql.DataSource;

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

import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Database;

/**
 * The Leader's export of the whole audit trail (its own events and every node's forwarded ones, checkpoints included)
 * to a SIEM: RFC 5424 lines, HOSTNAME the node that recorded the event, over TCP or TLS with RFC 5425 octet-counted
 * framing. One configuration per destination ({@code etc/io.coffer.collector.siem-<name>.cfg}). Each node's chain is
 * sent in seq order from where the destination's cursor in {@code audit_export} stands; the cursor moves after the
 * batch is written, in the replicated database, so a new Leader goes on from there. Syslog has no acknowledgements:
 * a batch in flight when a connection or a Leader dies is sent again (a SIEM deduplicates by the event's PROCID,
 * MSGID and time) or, if the SIEM lost it after TCP took it, lost to it — the audit table still has it.
 */
@Component(service = HealthCheck.class, configurationPid = SiemExport.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = SiemExport.Config.class, factory = true)
public class SiemExport implements HealthCheck {
    static final String PID = "io.coffer.collector.siem";
    private static final Logger LOG = LoggerFactory.getLogger(SiemExport.class);
    /** The stored line's header up to its empty HOSTNAME: {@code <PRI>1 TIMESTAMP -}. */
    private static final Pattern HEADER = Pattern.compile("^(<[0-9]{1,3}>1 [^ ]+) - ");

    @ObjectClassDefinition(name = "Coffer SIEM export", description = "Audit export to a syslog destination")
    public @interface Config {
        @AttributeDefinition(description = "The destination's name: the key of its place in audit_export")
        String name() default "siem";

        @AttributeDefinition(description = "The syslog receiver's host")
        String host();

        @AttributeDefinition(description = "The syslog receiver's port (6514: syslog over TLS)")
        int port() default 6514;

        @AttributeDefinition(description = "TLS (RFC 5425); false: plain TCP, for a receiver on the same host only")
        boolean tls() default true;

        @AttributeDefinition(description = "PEM file of the CA the receiver's certificate must chain to; empty: the "
                + "JDK's trusted CAs")
        String ca() default "";

        @AttributeDefinition(description = "The name (DNS name or IP) the receiver's certificate must carry; empty: "
                + "the host")
        String server_name() default "";

        @AttributeDefinition(description = "Events per node per round")
        int batch() default 500;

        @AttributeDefinition(description = "Pause when there is nothing to send (ms)")
        long poll_ms() default 1000;

        @AttributeDefinition(description = "Connect and write timeout (ms)")
        int timeout_ms() default 5000;
    }

    private final Database db;
    private final Config config;
    private final String destination;
    private final Thread thread;
    private volatile boolean running = true;
    private Socket socket;
    private OutputStream out;
    private List<String> nodes = List.of();
    private long nodesAt;
    private volatile long exported;
    private volatile long errors;
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile Instant lastExport;
    private volatile boolean connected;

    @Activate
    public SiemExport(Config config, @Reference Database db) {
        if (config.host() == null || config.host().isBlank() || config.port() <= 0 || config.port() > 65535) {
            throw new IllegalArgumentException(PID + ": host and port (1-65535) are required");
        }
        if (!config.name().matches("[A-Za-z0-9_.-]{1,63}")) {
            throw new IllegalArgumentException(PID + ": name must be 1-63 letters, digits, '.', '_' or '-'");
        }
        this.db = db;
        this.config = config;
        this.destination = config.name();
        this.thread = new Thread(this::run, "coffer-siem-" + destination);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long backoff = 0;
        while (running) {
            try {
                boolean sent = round();
                backoff = 0;
                if (!sent) {
                    Thread.sleep(config.poll_ms());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (IOException | SQLException | GeneralSecurityException | RuntimeException e) {
                errors++;
                lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
                lastErrorAt = Instant.now();
                if (errors == 1 || errors % 20 == 0) {
                    LOG.warn("SIEM export to {} failed: {}; retrying from where it stands", destination, lastError);
                }
                disconnect();
                backoff = backoff == 0 ? 500 : Math.min(10_000, backoff * 2);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        disconnect();
    }

    /** @return whether anything was sent */
    private boolean round() throws IOException, SQLException, GeneralSecurityException {
        DataSource ds = db.dataSource();
        boolean sent = false;
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    disconnect(); // a replica: the Leader exports
                    return false;
                }
            }
            for (String node : nodes(c)) {
                long cursor = cursor(c, node);
                List<String> frames = new ArrayList<>();
                long last = cursor;
                try (PreparedStatement ps = c.prepareStatement("SELECT seq, line FROM audit_events WHERE node = ?"
                        + " AND seq > ? ORDER BY seq LIMIT ?")) {
                    ps.setString(1, node);
                    ps.setLong(2, cursor);
                    ps.setInt(3, Math.max(1, config.batch()));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            last = rs.getLong(1);
                            frames.add(frame(rs.getString(2), node));
                        }
                    }
                }
                if (frames.isEmpty()) {
                    continue;
                }
                send(frames);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_export (destination, node, seq)"
                        + " VALUES (?, ?, ?) ON CONFLICT (destination, node) DO UPDATE SET seq = excluded.seq,"
                        + " exported_at = now()")) {
                    ps.setString(1, destination);
                    ps.setString(2, node);
                    ps.setLong(3, last);
                    ps.executeUpdate();
                }
                exported += frames.size();
                lastExport = Instant.now();
                sent = true;
            }
        }
        return sent;
    }

    /** The nodes with events, by a walk of the (node, seq) index: no scan of the table. Refreshed every 10 s. */
    private List<String> nodes(Connection c) throws SQLException {
        if (System.currentTimeMillis() - nodesAt < 10_000 && !nodes.isEmpty()) {
            return nodes;
        }
        List<String> found = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("WITH RECURSIVE n(node) AS ("
                + " SELECT min(node) FROM audit_events UNION ALL"
                + " SELECT (SELECT min(node) FROM audit_events WHERE node > n.node) FROM n WHERE n.node IS NOT NULL)"
                + " SELECT node FROM n WHERE node IS NOT NULL")) {
            while (rs.next()) {
                found.add(rs.getString(1));
            }
        }
        nodes = found;
        nodesAt = System.currentTimeMillis();
        return found;
    }

    private long cursor(Connection c, String node) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq FROM audit_export WHERE destination = ? AND node = ?")) {
            ps.setString(1, destination);
            ps.setString(2, node);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** RFC 5425: the message's length in octets, a space, the message; HOSTNAME is the recording node. */
    static String frame(String line, String node) {
        Matcher m = HEADER.matcher(line);
        String msg = m.find() ? m.group(1) + " " + node + " " + line.substring(m.end()) : line;
        return msg.getBytes(StandardCharsets.UTF_8).length + " " + msg;
    }

    private void send(List<String> frames) throws IOException, GeneralSecurityException {
        if (socket == null) {
            connect();
        }
        StringBuilder b = new StringBuilder(frames.size() * 600);
        frames.forEach(b::append);
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void connect() throws IOException, GeneralSecurityException {
        Socket raw = new Socket();
        try {
            raw.connect(new InetSocketAddress(config.host(), config.port()), config.timeout_ms());
            raw.setSoTimeout(config.timeout_ms());
            Socket s = raw;
            if (config.tls()) {
                String name = config.server_name().isBlank() ? config.host() : config.server_name();
                SSLSocket tls = (SSLSocket) context().getSocketFactory().createSocket(raw, name, config.port(), true);
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the receiver
                p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                if (!name.matches("[0-9.]+|.*:.*")) {
                    p.setServerNames(List.of(new SNIHostName(name)));
                }
                tls.setSSLParameters(p);
                tls.startHandshake();
                s = tls;
            }
            socket = s;
            out = s.getOutputStream();
            connected = true;
            LOG.info("SIEM export to {} connected ({}:{}{})", destination, config.host(), config.port(),
                    config.tls() ? ", TLS" : "");
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private SSLContext context() throws IOException, GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (config.ca().isBlank()) {
            tmf.init((KeyStore) null);
        } else {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(Path.of(config.ca()))) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca" + i++, c);
                }
            }
            tmf.init(trust);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private void disconnect() {
        connected = false;
        if (socket != null) {
            try {
                if (socket instanceof SSLSocket) {
                    socket.shutdownOutput(); // a close_notify, so the receiver sees a proper end
                }
            } catch (IOException | UnsupportedOperationException e) {
                LOG.debug("SIEM export: ending TLS", e);
            }
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debug("SIEM export: closing", e);
            }
            socket = null;
            out = null;
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }

    @Override
    public String name() {
        return "siem-" + destination;
    }

    /** Always ok for the node: a SIEM away must not take the Leader out of its load balancer; the details say it. */
    @Override
    public ComponentHealth check() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("target", config.host() + ":" + config.port() + (config.tls() ? " (TLS)" : ""));
        d.put("connected", connected);
        d.put("exported", exported);
        if (lastExport != null) {
            d.put("last_export", lastExport.toString());
        }
        d.put("errors", errors);
        if (lastError != null) {
            d.put("last_error", lastError);
            d.put("last_error_at", lastErrorAt.toString());
        }
        return ComponentHealth.ok(d);
    }
}
