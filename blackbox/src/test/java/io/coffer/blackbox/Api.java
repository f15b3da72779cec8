package io.coffer.blackbox;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The suite's only way to reach the node: HTTPS to {@code COFFER_URL}, trusting only {@code COFFER_CA}, with host-name
 * checks on, as the official clients do. Configured only by what {@code ./coffer start} prints.
 */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String URL = env("COFFER_URL");
    static final String ACCOUNT = env("COFFER_ACCOUNT");
    static final String ADMIN_KEY = env("COFFER_API_KEY");
    private static final SSLContext SSL = ssl();
    private static final HttpClient CLIENT = HttpClient.newBuilder().sslContext(SSL)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private static String adminToken;

    private Api() {
    }

    /** A response, read whole. */
    static final class Resp {
        final int status;
        final HttpHeaders headers;
        final byte[] body;

        Resp(HttpResponse<byte[]> r) {
            this.status = r.statusCode();
            this.headers = r.headers();
            this.body = r.body();
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + text(), e);
            }
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        /** Conjur's error code, {@code error.code}. */
        String code() {
            return json().path("error").path("code").asText(null);
        }

        String message() {
            return json().path("error").path("message").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    static String env(String name) {
        String v = System.getenv(name);
        assertNotNull(name + " must be set (eval \"$(./coffer start)\")", v);
        return v;
    }

    private static SSLContext ssl() {
        try (InputStream in = Files.newInputStream(Path.of(env("COFFER_CA")))) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("coffer-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (Exception e) {
            throw new IllegalStateException("can't trust COFFER_CA", e);
        }
    }

    /**
     * @param headers name, value, name, value...
     */
    static Resp send(String method, String path, byte[] body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(URL + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        headers = AuditLedger.withRequestId(headers);
        for (int i = 0; i < headers.length; i += 2) {
            if (headers[i + 1] != null) {
                b.header(headers[i], headers[i + 1]);
            }
        }
        try {
            Resp r = new Resp(CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()));
            AuditLedger.record(method, path, r.status, r.header("X-Request-Id"));
            return r;
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A response read off a raw connection: status, headers (lower-case names), body. */
    static final class Raw {
        final int status;
        final java.util.Map<String, String> headers;
        final byte[] body;

        Raw(int status, java.util.Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + new String(body, StandardCharsets.UTF_8), e);
            }
        }

        @Override
        public String toString() {
            return status + " " + new String(body, StandardCharsets.UTF_8);
        }
    }

    /**
     * One HTTP/1.0 request over TLS from a chosen local address (127.0.0.2, 127.0.0.3: any of 127/8 works as a
     * source on Linux loopback), which java.net.http can't do; host names are checked as the client above does.
     *
     * @param headers name, value, name, value...
     */
    static Raw sendFrom(String localAddress, String method, String path, byte[] body, String... headers) {
        URI u = URI.create(URL);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) SSL.getSocketFactory().createSocket(
                u.getHost(), u.getPort(), java.net.InetAddress.getByName(localAddress), 0)) {
            return exchange(socket, u, method, path, body, headers);
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " from " + localAddress + ": " + e, e);
        }
    }

    /**
     * As {@link #sendFrom}, to the node's PROXY listener (the API port + 2) as a load balancer would: a PROXY
     * protocol v2 header claiming {@code claimedSource} (IPv4) before the TLS handshake.
     */
    static Raw sendViaProxyProtocol(String localAddress, String claimedSource, String method, String path,
            String... headers) throws IOException {
        URI u = URI.create(URL);
        int port = u.getPort() + 2;
        java.net.Socket plain = new java.net.Socket(u.getHost(), port, java.net.InetAddress.getByName(localAddress), 0);
        java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(28);
        h.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        h.put((byte) 0x21).put((byte) 0x11).putShort((short) 12); // v2 PROXY, TCP over IPv4, 12 address bytes
        h.put(java.net.InetAddress.getByName(claimedSource).getAddress()).put(plain.getInetAddress().getAddress());
        h.putShort((short) 40000).putShort((short) port);
        plain.getOutputStream().write(h.array());
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) SSL.getSocketFactory().createSocket(plain,
                u.getHost(), port, true)) {
            return exchange(socket, u, method, path, null, headers);
        }
    }

    private static Raw exchange(javax.net.ssl.SSLSocket socket, URI u, String method, String path, byte[] body,
            String... headers) throws IOException {
        Raw r = exchangeOnce(socket, u, method, path, body, AuditLedger.withRequestId(headers));
        AuditLedger.record(method, path, r.status, r.headers.get("x-request-id"));
        return r;
    }

    private static Raw exchangeOnce(javax.net.ssl.SSLSocket socket, URI u, String method, String path, byte[] body,
            String... headers) throws IOException {
        {
            socket.setSoTimeout(30_000);
            javax.net.ssl.SSLParameters p = socket.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(p);
            StringBuilder req = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.0\r\n")
                    .append("Host: ").append(u.getHost()).append(':').append(u.getPort()).append("\r\n");
            for (int i = 0; i < headers.length; i += 2) {
                if (headers[i + 1] != null) {
                    req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
                }
            }
            req.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n\r\n");
            socket.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                socket.getOutputStream().write(body);
            }
            socket.getOutputStream().flush();
            byte[] all = socket.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            String[] head = text.substring(0, end).split("\r\n");
            java.util.Map<String, String> h = new java.util.LinkedHashMap<>();
            for (int i = 1; i < head.length; i++) {
                int colon = head[i].indexOf(':');
                h.put(head[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), head[i].substring(colon + 1)
                        .trim());
            }
            return new Raw(Integer.parseInt(head[0].split(" ")[1]), h,
                    java.util.Arrays.copyOfRange(all, end + 4, all.length));
        }
    }

    static Resp get(String path, String auth, String... headers) {
        return send("GET", path, null, with(auth, headers));
    }

    static Resp post(String path, String auth, String body, String... headers) {
        return send("POST", path, body == null ? null : body.getBytes(StandardCharsets.UTF_8), with(auth, headers));
    }

    static Resp form(String method, String path, String auth, String form) {
        return send(method, path, form.getBytes(StandardCharsets.UTF_8), "Authorization", auth, "Content-Type",
                "application/x-www-form-urlencoded");
    }

    private static String[] with(String auth, String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Authorization";
        all[1] = auth;
        System.arraycopy(headers, 0, all, 2, headers.length);
        return all;
    }

    /** @return an {@code Authorization} header value for the token of {@code login} */
    static String token(String login, String apiKey) {
        Resp r = post("/authn/" + ACCOUNT + "/" + enc(login) + "/authenticate", null, apiKey);
        assertEquals("authenticate " + login + ": " + r, 200, r.status);
        return "Token token=\"" + Base64.getEncoder().encodeToString(r.body) + "\"";
    }

    static synchronized String admin() {
        if (adminToken == null) {
            adminToken = token("admin", ADMIN_KEY);
        }
        return adminToken;
    }

    static String basic(String login, String secret) {
        return "Basic " + Base64.getEncoder().encodeToString((login + ":" + secret).getBytes(StandardCharsets.UTF_8));
    }

    /** Percent-encodes an id for one path segment, {@code /} as {@code %2F} (what the clients send). */
    static String enc(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Loads policy YAML as admin. */
    static Resp policy(String method, String policyId, String yaml) {
        return send(method, "/policies/" + ACCOUNT + "/policy/" + enc(policyId), yaml.getBytes(StandardCharsets.UTF_8),
                "Authorization", admin());
    }

    /** Loads policy as admin and insists on 201; returns the body. */
    static JsonNode load(String method, String policyId, String yaml) {
        Resp r = policy(method, policyId, yaml);
        assertEquals("load " + policyId + ": " + r, 201, r.status);
        return r.json();
    }

    /** @return the API key of a role created by a load */
    static String apiKey(JsonNode loaded, String roleId) {
        JsonNode n = loaded.path("created_roles").path(ACCOUNT + ":" + roleId).path("api_key");
        assertNotNull("created " + roleId + " in " + loaded, n.isMissingNode() ? null : n.asText());
        return n.asText();
    }

    static void setSecret(String variable, String value) {
        Resp r = post("/secrets/" + ACCOUNT + "/variable/" + enc(variable), admin(), value);
        assertEquals("set " + variable + ": " + r, 201, r.status);
    }

    /** A fresh policy id under root, so each test class owns its namespace. */
    static String namespace(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static String id(String kind, String identifier) {
        return ACCOUNT + ":" + kind + ":" + identifier;
    }
}
