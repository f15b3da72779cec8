package io.coffer.collector.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.coffer.api.audit.AuditStore;
import io.coffer.api.net.NodeTls;
import io.coffer.node.internal.NodeTlsComponent;

/**
 * The receiver over real TLS 1.3 with certificates made by keytool as the launcher makes them: who may send, under
 * which name the lines are stored, and what hostile input gets. The store here records calls; that the table stores
 * lines exactly once and in order is the audit bundle's tests', and the whole path is the cluster suite's.
 */
public class AuditReceiverTest {
    @ClassRule
    public static TemporaryFolder tmp = new TemporaryFolder();
    private static Path base;
    private static NodeTls leader;
    private static AuditReceiver receiver;
    private static final RecordingStore STORE = new RecordingStore();

    /** Lines per node as stored, and a switch to answer as a replica would. */
    static final class RecordingStore implements AuditStore {
        final Map<String, List<String>> lines = new ConcurrentHashMap<>();
        volatile boolean replica;

        @Override
        public long storedSeq(String node) throws AuditStoreException {
            if (replica) {
                throw new AuditStoreException(AuditStoreException.NOT_LEADER, "this database is a replica", null);
            }
            return lines.getOrDefault(node, List.of()).size();
        }

        @Override
        public long store(String node, List<String> batch) throws AuditStoreException {
            if (batch.stream().anyMatch(l -> l.contains("refuse-me"))) {
                throw new AuditStoreException(AuditStoreException.BAD_LINES, "line 1 of the batch: not chained", null);
            }
            lines.computeIfAbsent(node, k -> new CopyOnWriteArrayList<>()).addAll(batch);
            return storedSeq(node);
        }
    }

    @BeforeClass
    public static void start() throws Exception {
        base = tmp.getRoot().toPath();
        issue("ca", "n1", "n7");
        issue("other-ca", "n9");
        leader = nodeTls("ca", "n1");
        receiver = new AuditReceiver(config(0), STORE, leader);
    }

    @AfterClass
    public static void stop() throws Exception {
        receiver.deactivate();
    }

    @Before
    public void clear() {
        STORE.lines.clear();
        STORE.replica = false;
    }

    @Test
    public void aNodesLinesAreStoredUnderItsCertificatesNameAndAcknowledged() throws Exception {
        try (Peer p = new Peer(tls("ca", "n7"))) {
            assertEquals("COFFER-AUDIT 1 0", p.line());
            p.send("BATCH 2\n{\"node\":\"n1\",\"a\":1}\nsecond\n");
            assertEquals("ACK 2", p.line());
            p.send("BATCH 1\nthird\n");
            assertEquals("ACK 3", p.line());
        }
        assertEquals(List.of("{\"node\":\"n1\",\"a\":1}", "second", "third"), STORE.lines.get("n7"));
        assertNull("a line's own say names no sender", STORE.lines.get("n1"));
        // Reconnecting, the sender learns how far its chain is stored.
        try (Peer p = new Peer(tls("ca", "n7"))) {
            assertEquals("COFFER-AUDIT 1 3", p.line());
        }
    }

    @Test
    public void withoutACertificateOfTheClusterCaNothingIsHeard() throws Exception {
        for (SSLContext ctx : new SSLContext[] {tls("other-ca", "n9"), trustOnly("ca")}) {
            try (Peer p = new Peer(ctx)) {
                p.send("BATCH 1\nforged\n");
                assertNull(p.line());
            } catch (IOException expected) {
                // the handshake itself fails: equally refused
            }
        }
        assertTrue(STORE.lines.toString(), STORE.lines.isEmpty());
    }

    @Test
    public void hostileInputIsCutOffAndStoresNothing() throws Exception {
        String huge = "x".repeat(2 * 1024 * 1024);
        for (String input : new String[] {"HELLO\n", "BATCH 0\n", "BATCH -1\n", "BATCH 1001\n", "BATCH 1 \n",
                "BATCH 99999999999\n", "BATCH 1\n" + huge + "\n", "BATCH 1\n\u00ff\n"}) {
            try (Peer p = new Peer(tls("ca", "n7"))) {
                assertEquals("COFFER-AUDIT 1 0", p.line());
                byte[] bytes = input.getBytes(input.contains("\u00ff") ? StandardCharsets.ISO_8859_1
                        : StandardCharsets.UTF_8);
                try {
                    p.out.write(bytes);
                    p.out.flush();
                } catch (IOException closedEarly) {
                    // the receiver may close before a huge line is all sent
                }
                String answer = p.lineOrNull();
                assertTrue(input.substring(0, Math.min(20, input.length())) + " -> " + answer,
                        answer == null || answer.startsWith("ERR protocol") || answer.startsWith("ERR "));
                assertNull("closed after an error", p.lineOrNull());
            }
        }
        assertTrue(STORE.lines.toString(), STORE.lines.isEmpty());
    }

    @Test
    public void whatTheStoreRefusesIsNamedAndNotAcknowledged() throws Exception {
        try (Peer p = new Peer(tls("ca", "n7"))) {
            p.line();
            p.send("BATCH 1\nrefuse-me\n");
            assertEquals("ERR bad_lines line 1 of the batch: not chained", p.line());
            assertNull(p.lineOrNull());
        }
        STORE.replica = true;
        try (Peer p = new Peer(tls("ca", "n7"))) {
            assertEquals("ERR not_leader this database is a replica", p.line());
        }
    }

    /** A client connection to the receiver. */
    private static final class Peer implements AutoCloseable {
        final SSLSocket socket;
        final BufferedReader in;
        final OutputStream out;

        Peer(SSLContext ctx) throws IOException {
            socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", receiver.port());
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        void send(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String line() throws IOException {
            return in.readLine();
        }

        String lineOrNull() {
            try {
                return in.readLine();
            } catch (IOException e) {
                return null;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static SSLContext tls(String ca, String node) throws Exception {
        return nodeTls(ca, node).context();
    }

    private static NodeTls nodeTls(String ca, String node) {
        return new NodeTlsComponent(new NodeTlsComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return NodeTlsComponent.Config.class;
            }

            @Override
            public String keystore() {
                return base.resolve(node + ".p12").toString();
            }

            @Override
            public String password_file() {
                return base.resolve("pw").toString();
            }

            @Override
            public String ca() {
                return base.resolve(ca + ".pem").toString();
            }
        });
    }

    /** A client that checks the receiver but has no certificate of its own. */
    private static SSLContext trustOnly(String ca) throws Exception {
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (var in = Files.newInputStream(base.resolve(ca + ".pem"))) {
            ks.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        tmf.init(ks);
        SSLContext c = SSLContext.getInstance("TLSv1.3");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }

    private static AuditReceiver.Config config(int port) {
        return new AuditReceiver.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return AuditReceiver.Config.class;
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
            public int max_connections() {
                return 8;
            }

            @Override
            public int max_batch() {
                return 1000;
            }

            @Override
            public int max_line_bytes() {
                return 1 << 20;
            }

            @Override
            public int idle_timeout_ms() {
                return 10_000;
            }
        };
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "keytool")
                .toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            fail("keytool " + String.join(" ", args) + ": " + out);
        }
    }

    /** A CA and node certificates signed by it, as the launcher issues them. */
    private static void issue(String caName, String... nodes) throws Exception {
        Files.writeString(base.resolve("pw"), "test-password\n");
        String ca = base.resolve(caName + ".p12").toString();
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + caName,
                "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12", "-keystore", ca, "-storepass", "capass");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", "capass", "-file",
                base.resolve(caName + ".pem").toString());
        for (String n : nodes) {
            String ks = base.resolve(n + ".p12").toString();
            keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + n,
                    "-validity", "2", "-storetype", "PKCS12", "-keystore", ks, "-storepass", "test-password");
            keytool("-certreq", "-alias", "node", "-keystore", ks, "-storepass", "test-password", "-file",
                    base.resolve(n + ".csr").toString());
            keytool("-gencert", "-alias", "ca", "-keystore", ca, "-storepass", "capass", "-rfc", "-validity", "2",
                    "-ext", "san=ip:127.0.0.1", "-ext", "eku=serverAuth,clientAuth", "-infile",
                    base.resolve(n + ".csr").toString(), "-outfile", base.resolve(n + ".pem").toString());
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", base.resolve(caName + ".pem").toString(),
                    "-keystore", ks, "-storepass", "test-password");
            keytool("-importcert", "-noprompt", "-alias", "node", "-file", base.resolve(n + ".pem").toString(),
                    "-keystore", ks, "-storepass", "test-password");
        }
    }
}
