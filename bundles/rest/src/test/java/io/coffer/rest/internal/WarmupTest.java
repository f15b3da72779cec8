package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.coffer.api.NodeRole;
import io.coffer.api.net.NodeTls;

/** The warm-up against a real listener shaped like the node's: a PROXY v2 header, then TLS, then HTTP. */
public class WarmupTest {
    @ClassRule
    public static TemporaryFolder tmp = new TemporaryFolder();
    private static SSLContext context;
    private static Server server;
    private static int port;
    private static final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeClass
    public static void listener() throws Exception {
        File ks = new File(tmp.getRoot(), "node.p12");
        Process p = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/keytool").getPath(),
                "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=n1",
                "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.getPath(),
                "-storepass", "changeit").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        server = new Server();
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(context);
        // Like the node's PROXY listener: a connection without the header is refused.
        ServerConnector c = new ServerConnector(server, new ProxyConnectionFactory("ssl"),
                new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory());
        c.setHost("127.0.0.1");
        c.setPort(0);
        server.addConnector(c);
        server.setHandler(new AbstractHandler() {
            @Override
            public void handle(String target, org.eclipse.jetty.server.Request base, HttpServletRequest request,
                    HttpServletResponse response) throws java.io.IOException {
                String body = new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                seen.add(request.getMethod() + " " + request.getRequestURI() + " " + body
                        + (request.getHeader("Authorization") != null ? " with credentials" : ""));
                response.setStatus(target.startsWith("/health") ? 200 : 503);
                base.setHandled(true);
            }
        });
        server.start();
        port = c.getLocalPort();
    }

    @AfterClass
    public static void stop() throws Exception {
        server.stop();
    }

    @Before
    public void clear() {
        seen.clear();
    }

    private static NodeTls tls() {
        return new NodeTls() {
            @Override
            public SSLContext context() {
                return context;
            }

            @Override
            public String peerName(SSLSession session) {
                return null;
            }
        };
    }

    @Test
    public void aStandbySendsItselfItsRequestsThroughTheProxyListenerWithoutCredentials() {
        Warmup w = new Warmup(() -> NodeRole.STANDBY, WarmupTest::tls, () -> port, "127.0.0.1");
        try {
            assertEquals(Warmup.REQUESTS.size() * Warmup.PASSES, w.run());
        } finally {
            w.close();
        }
        assertEquals(Warmup.REQUESTS.size() * Warmup.PASSES, seen.size());
        assertEquals(List.of("GET /health ", "GET /health/leader ", "POST /secrets/coffer-warmup/variable/warmup "
                + "warmup", "GET /secrets/coffer-warmup/variable/warmup ", "GET /resources/coffer-warmup "),
                seen.subList(0, Warmup.REQUESTS.size()));
    }

    @Test
    public void aDrStandbyIsWarmedTooButNoNodeThatServesOrCantReachItself() {
        Warmup dr = new Warmup(() -> NodeRole.DR_STANDBY, WarmupTest::tls, () -> port, "127.0.0.1");
        assertEquals(Warmup.REQUESTS.size() * Warmup.PASSES, dr.run());
        dr.close();
        seen.clear();
        // A Leader and a Follower serve requests: warm already, and none of their own may be added.
        for (NodeRole role : new NodeRole[] {NodeRole.LEADER, NodeRole.FOLLOWER}) {
            Warmup w = new Warmup(() -> role, WarmupTest::tls, () -> port, "127.0.0.1");
            assertEquals(-1, w.run());
            w.close();
        }
        // No certificate from the cluster CA, or no PROXY listener: nothing is sent.
        Warmup noTls = new Warmup(() -> NodeRole.STANDBY, () -> null, () -> port, "127.0.0.1");
        assertEquals(-1, noTls.run());
        noTls.close();
        Warmup noPort = new Warmup(() -> NodeRole.STANDBY, WarmupTest::tls, () -> 0, "127.0.0.1");
        assertEquals(-1, noPort.run());
        noPort.close();
        assertEquals(List.of(), seen);
    }

    @Test
    public void aListenerThatIsntThereOnlyMeansNoWarmUp() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Warmup w = new Warmup(() -> NodeRole.STANDBY, WarmupTest::tls, () -> closed, "127.0.0.1");
        assertEquals(-1, w.run());
        w.close();
    }
}
