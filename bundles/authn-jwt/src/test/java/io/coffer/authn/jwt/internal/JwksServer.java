package io.coffer.authn.jwt.internal;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * A JWKS endpoint on 127.0.0.1 (any free port) over HTTPS with a self-signed certificate made by the JDK's keytool,
 * or over plain HTTP. The answer is settable per test; every request is counted.
 */
final class JwksServer implements AutoCloseable {
    interface Answer {
        void write(HttpExchange exchange) throws IOException;
    }

    final AtomicInteger requests = new AtomicInteger();
    final String caPem;
    private final HttpServer server;
    private final java.util.concurrent.ExecutorService executor;
    private volatile Answer answer;

    private JwksServer(HttpServer server, String caPem) {
        this.server = server;
        this.caPem = caPem;
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            try {
                answer.write(ex);
            } finally {
                ex.close();
            }
        });
        executor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "jwks-test-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
    }

    static JwksServer https() throws Exception {
        Path dir = Files.createTempDirectory(Paths.get("/tmp"), "coffer-jwks-test");
        Path store = dir.resolve("tls.p12");
        keytool("-genkeypair", "-alias", "jwks", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=127.0.0.1",
                "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "test-pass");
        Path pem = dir.resolve("ca.pem");
        keytool("-exportcert", "-rfc", "-alias", "jwks", "-keystore", store.toString(), "-storepass", "test-pass",
                "-file", pem.toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(store.toFile())) {
            ks.load(in, "test-pass".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "test-pass".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx));
        String caPem = Files.readString(pem);
        for (Path p : new Path[] {store, pem, dir}) {
            Files.delete(p);
        }
        return new JwksServer(s, caPem);
    }

    static JwksServer http() throws IOException {
        return new JwksServer(HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16), "");
    }

    private static void keytool(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = Paths.get(System.getProperty("java.home"), "bin", "keytool").toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keytool failed: " + String.join(" ", args));
        }
    }

    URI uri(String path) {
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    void answer(Answer a) {
        this.answer = a;
    }

    void answer(int status, String body) {
        answer(ex -> {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        });
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
