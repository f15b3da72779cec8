package io.coffer.collector.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.annotation.Annotation;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.coffer.store.internal.TestDatabase;

/**
 * The export against a real rsyslog (the SIEM stand-in) listening with TLS (RFC 5425) on loopback, and a real
 * PostgreSQL with Coffer's schema: every RFC 5424 field arrives parsed, HOSTNAME is the recording node, each node's
 * chain in order, and the cursor in {@code audit_export} makes a restarted exporter go on without sending again.
 */
public class SiemExportTest {
    @ClassRule
    public static TemporaryFolder tmp = new TemporaryFolder();
    private static TestDatabase db;
    private static Process rsyslog;
    private static Path dir;
    private static Path received;
    private static int tlsPort;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        dir = tmp.getRoot().toPath();
        Files.createDirectories(dir.resolve("work"));
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
                "2", "-subj", "/CN=siem.test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                dir.resolve("siem.key").toString(), "-out", dir.resolve("siem.crt").toString());
        tlsPort = freePort();
        received = dir.resolve("received.log");
        String conf = "global(workDirectory=\"" + dir.resolve("work") + "\"\n"
                + "  DefaultNetstreamDriverCAFile=\"" + dir.resolve("siem.crt") + "\"\n"
                + "  DefaultNetstreamDriverCertFile=\"" + dir.resolve("siem.crt") + "\"\n"
                + "  DefaultNetstreamDriverKeyFile=\"" + dir.resolve("siem.key") + "\")\n"
                + "module(load=\"imtcp\" MaxSessions=\"20\")\n"
                + "input(type=\"imtcp\" port=\"" + tlsPort + "\" address=\"127.0.0.1\" ruleset=\"siem\"\n"
                + "  StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n"
                + "template(name=\"fields\" type=\"list\") {\n"
                + "  constant(value=\"proto=\") property(name=\"protocol-version\")\n"
                + "  constant(value=\" host=\") property(name=\"hostname\")\n"
                + "  constant(value=\" app=\") property(name=\"app-name\")\n"
                + "  constant(value=\" procid=\") property(name=\"procid\")\n"
                + "  constant(value=\" msgid=\") property(name=\"msgid\")\n"
                + "  constant(value=\" pri=\") property(name=\"pri\")\n"
                + "  constant(value=\" ts=\") property(name=\"timereported\" dateFormat=\"rfc3339\")\n"
                + "  constant(value=\" sd=\") property(name=\"structured-data\")\n"
                + "  constant(value=\" msg=\") property(name=\"msg\" droplastlf=\"on\")\n"
                + "  constant(value=\"\\n\")\n"
                + "}\n"
                + "ruleset(name=\"siem\") { action(type=\"omfile\" file=\"" + received + "\" template=\"fields\") }\n";
        Files.writeString(dir.resolve("rsyslog.conf"), conf);
        run("rsyslogd", "-N1", "-f", dir.resolve("rsyslog.conf").toString());
        rsyslog = new ProcessBuilder("rsyslogd", "-n", "-f", dir.resolve("rsyslog.conf").toString(), "-i",
                dir.resolve("rsyslogd.pid").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("rsyslogd.out").toFile()).start();
        long deadline = System.currentTimeMillis() + 15_000;
        while (!listening(tlsPort)) {
            if (System.currentTimeMillis() > deadline || !rsyslog.isAlive()) {
                fail("rsyslogd did not listen: " + Files.readString(dir.resolve("rsyslogd.out")));
            }
            Thread.sleep(100);
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        if (rsyslog != null) {
            rsyslog.destroy();
            rsyslog.waitFor(10, TimeUnit.SECONDS);
        }
        db.close();
    }

    @Test
    public void everyFieldArrivesOverTlsInOrderAndARestartGoesOnFromTheCursor() throws Exception {
        for (int seq = 1; seq <= 3; seq++) {
            insert("n7", seq, "req-" + seq, "fetch", "[auth@43868 user=\"demo:user:alice\"][subject@43868 resource="
                    + "\"demo:variable:a\\\"b\\]c\\\\d\"][client@43868 ip=\"127.0.0.2\"][action@43868 result=\"success\""
                    + " operation=\"fetch\"]", "demo:user:alice fetched demo:variable:a\"b]c\\d");
        }
        insert("n8", 1, "req-n8", "authn", "[auth@43868 user=\"demo:host:app\"][client@43868 ip=\"127.0.0.3\"]"
                + "[action@43868 result=\"failure\" operation=\"authenticate\"]", "demo:host:app failed to authenticate");
        SiemExport export = new SiemExport(config(tlsPort, "127.0.0.1"), db);
        List<String> lines = receivedLines(4);
        export.deactivate();
        String first = lines.stream().filter(l -> l.contains("procid=req-1 ")).findFirst().orElseThrow();
        assertTrue(first, first.startsWith("proto=1 host=n7 app=conjur procid=req-1 msgid=fetch pri=86 "
                + "ts=2026-11-26T06:04:01.000"));
        assertTrue(first, first.contains(" sd=[auth@43868 user=\"demo:user:alice\"][subject@43868 resource=\"demo:"
                + "variable:a\\\"b\\]c\\\\d\"][client@43868 ip=\"127.0.0.2\"][action@43868 result=\"success\""
                + " operation=\"fetch\"] msg=demo:user:alice fetched demo:variable:a\"b]c\\d"));
        String n8 = lines.stream().filter(l -> l.contains("procid=req-n8 ")).findFirst().orElseThrow();
        assertTrue(n8, n8.startsWith("proto=1 host=n8 app=conjur procid=req-n8 msgid=authn pri=84 "));
        List<String> n7 = lines.stream().filter(l -> l.contains("host=n7")).toList();
        assertEquals(List.of("req-1", "req-2", "req-3"), n7.stream()
                .map(l -> l.replaceAll(".*procid=([^ ]+) .*", "$1")).toList());
        assertEquals(3, cursor("n7"));
        assertEquals(1, cursor("n8"));

        // Restarted (a new Leader, a redeployment): only what came since is sent.
        insert("n7", 4, "req-4", "fetch", "[action@43868 result=\"success\" operation=\"fetch\"]", "four");
        SiemExport again = new SiemExport(config(tlsPort, "127.0.0.1"), db);
        List<String> after = receivedLines(5);
        again.deactivate();
        assertEquals(1, after.stream().filter(l -> l.contains("procid=req-1 ")).count());
        assertTrue(after.get(4), after.get(4).contains("procid=req-4 "));
        Thread.sleep(1_500);
        assertEquals("nothing sent twice", 5, receivedLines(5).size());
    }

    @Test
    public void aReceiverWhoseCertificateDoesNotNameItGetsNothing() throws Exception {
        SiemExport wrong = new SiemExport(config(tlsPort, "siem.example.org"), db);
        long deadline = System.currentTimeMillis() + 15_000;
        while (((Number) wrong.check().details().get("errors")).longValue() == 0) {
            assertTrue("no error reported: " + wrong.check().details(), System.currentTimeMillis() < deadline);
            Thread.sleep(100);
        }
        wrong.deactivate();
        assertEquals(false, wrong.check().details().get("connected"));
        assertEquals(0L, wrong.check().details().get("exported"));
        assertTrue(String.valueOf(wrong.check().details().get("last_error")),
                String.valueOf(wrong.check().details().get("last_error")).contains("SSL"));
    }

    private static List<String> receivedLines(int atLeast) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        for (;;) {
            List<String> lines = Files.exists(received) ? Files.readAllLines(received, StandardCharsets.UTF_8)
                    : List.of();
            if (lines.size() >= atLeast) {
                return lines;
            }
            if (System.currentTimeMillis() > deadline) {
                fail("rsyslog received " + lines + "; its output: " + Files.readString(dir.resolve("rsyslogd.out")));
            }
            Thread.sleep(100);
        }
    }

    private static void insert(String node, long seq, String requestId, String msgid, String sd, String msg)
            throws Exception {
        int pri = "authn".equals(msgid) && msg.contains("failed") ? 84 : 86;
        String line = "<" + pri + ">1 2026-11-26T06:04:0" + seq + ".000Z - conjur " + requestId + " " + msgid + " " + sd
                + " " + msg;
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit_events (id, at, msgid, priority, request_id, operation, success, structured_data,"
                        + " message, line, node, seq) VALUES (?, ?, ?, ?, ?, ?, true, '{}'::jsonb, ?, ?, ?, ?)")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, java.time.OffsetDateTime.ofInstant(Instant.parse("2026-11-26T06:04:00Z"),
                    java.time.ZoneOffset.UTC));
            ps.setString(3, msgid);
            ps.setShort(4, (short) pri);
            ps.setString(5, requestId);
            ps.setString(6, msgid);
            ps.setString(7, msg);
            ps.setString(8, line);
            ps.setString(9, node);
            ps.setLong(10, seq);
            ps.executeUpdate();
        }
    }

    private static long cursor(String node) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT seq FROM audit_export WHERE destination = 'test-siem' AND node = '"
                        + node + "'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private SiemExport.Config config(int port, String serverName) {
        return new SiemExport.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return SiemExport.Config.class;
            }

            @Override
            public String name() {
                return serverName.equals("127.0.0.1") ? "test-siem" : "wrong-name";
            }

            @Override
            public String host() {
                return "127.0.0.1";
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public boolean tls() {
                return true;
            }

            @Override
            public String ca() {
                return dir.resolve("siem.crt").toString();
            }

            @Override
            public String server_name() {
                return serverName;
            }

            @Override
            public int batch() {
                return 2; // smaller than a node's events: batches follow each other in order
            }

            @Override
            public long poll_ms() {
                return 100;
            }

            @Override
            public int timeout_ms() {
                return 3_000;
            }
        };
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean listening(int port) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            fail(String.join(" ", cmd) + ": " + out);
        }
    }

}
