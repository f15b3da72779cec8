package io.coffer.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The set-up client: HTTPS to one node, trusting only the cluster CA, host names checked. Not used under load. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    final String url;
    final String account;
    private final HttpClient client;

    Api(String url, Path ca, String account) {
        this.url = url;
        this.account = account;
        this.client = HttpClient.newBuilder().sslContext(trusting(ca)).connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    static SSLContext trusting(Path ca) {
        try (InputStream in = Files.newInputStream(ca)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the CA " + ca, e);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The token header value for a role's API key. */
    String tokenHeader(String login, String apiKey) {
        HttpResponse<byte[]> r = send("POST", "/authn/" + account + "/" + enc(login) + "/authenticate", null,
                apiKey.getBytes(StandardCharsets.UTF_8), 200);
        return "Token token=\"" + Base64.getEncoder().encodeToString(r.body()) + "\"";
    }

    /** A token header for the role, re-issued every 4 minutes (tokens last 8): for phases that run long. */
    java.util.function.Supplier<String> refreshing(String login, String apiKey) {
        return new java.util.function.Supplier<>() {
            private String header;
            private long at;

            @Override
            public synchronized String get() {
                if (header == null || System.nanoTime() - at > 240_000_000_000L) {
                    header = tokenHeader(login, apiKey);
                    at = System.nanoTime();
                }
                return header;
            }
        };
    }

    JsonNode loadPolicy(String auth, String method, String policyId, String yaml) {
        HttpResponse<byte[]> r = send(method, "/policies/" + account + "/policy/" + enc(policyId), auth,
                yaml.getBytes(StandardCharsets.UTF_8), 201);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<byte[]> setSecret(String auth, String variable, byte[] value) {
        return send("POST", "/secrets/" + account + "/variable/" + enc(variable), auth, value, 201);
    }

    HttpResponse<byte[]> send(String method, String path, String auth, byte[] body, int expect) {
        return sendAt(method, path, auth, null, body, expect);
    }

    /** A read that the node answers only once it has applied {@code position} (read-your-writes). */
    HttpResponse<byte[]> sendAt(String method, String path, String auth, String position, int expect) {
        return sendAt(method, path, auth, position, null, expect);
    }

    HttpResponse<byte[]> sendAt(String method, String path, String auth, String position, byte[] body, int expect) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofMinutes(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        if (position != null) {
            b.header("X-Coffer-Position", position);
        }
        try {
            HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            // Set-up calls ride out a busy node (503 with Retry-After: audit behind, position not reached yet).
            for (int retry = 0; expect > 0 && r.statusCode() == 503 && retry < 40; retry++) {
                Thread.sleep(250);
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            }
            if (expect > 0 && r.statusCode() != expect) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": "
                        + new String(r.body(), StandardCharsets.UTF_8));
            }
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
