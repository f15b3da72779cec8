package io.coffer.replication.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.Base64;
import java.util.Properties;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The new node's side of enrolment, run by the launcher with plain Java (no Karaf yet): {@code inspect SEED},
 * {@code unpack SEED PASSPHRASE_FILE NODE_DIR}, {@code consume NODE_DIR}. Unpacking writes the node's share of the
 * cluster into its folder (owner-only files); consuming tells the Leader, which accepts each seed once.
 */
public final class SeedTool {
    private SeedTool() {
    }

    public static void main(String[] args) throws Exception {
        try {
            switch (args.length > 0 ? args[0] : "") {
                case "inspect": inspect(read(Path.of(args[1]))); break;
                case "unpack": unpack(read(Path.of(args[1])), Path.of(args[2]), Path.of(args[3])); break;
                case "consume": consume(Path.of(args[1])); break;
                default:
                    System.err.println("usage: SeedTool inspect SEED | unpack SEED PASSPHRASE_FILE NODE_DIR | consume NODE_DIR");
                    System.exit(2);
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    private static String read(Path seed) throws IOException {
        return Files.readString(seed, StandardCharsets.UTF_8).trim();
    }

    private static void inspect(String seed) {
        String[] h = SeedCodec.header(seed);
        System.out.println("SEED_ID=" + h[1]);
        System.out.println("SEED_NAME=" + h[2]);
        System.out.println("SEED_ROLE=" + h[3]);
        System.out.println("SEED_EXPIRES=" + Instant.ofEpochSecond(Long.parseLong(h[4])));
        System.out.println("SEED_EXPIRED=" + (Instant.now().getEpochSecond() > Long.parseLong(h[4])));
    }

    private static void unpack(String seed, Path passphraseFile, Path node) throws IOException {
        char[] pass = Files.readString(passphraseFile, StandardCharsets.UTF_8).trim().toCharArray();
        SeedCodec.Opened o = SeedCodec.open(seed, pass);
        java.util.Arrays.fill(pass, '\0');
        if (Instant.now().isAfter(o.expires)) {
            throw new IllegalStateException("the seed expired at " + o.expires + "; ask for a new one");
        }
        Path secrets = node.resolve("secrets");
        Files.createDirectories(secrets);
        Files.createDirectories(node.resolve("etc/tls"));
        Base64.Decoder b64 = Base64.getDecoder();
        secret(secrets.resolve("server.key"), b64.decode(o.payload.getProperty("server.key")));
        secret(secrets.resolve("postgres-coffer.password"), bytes(o.payload.getProperty("db.app.password") + "\n"));
        secret(secrets.resolve("postgres-coffer_replication.password"),
                bytes(o.payload.getProperty("db.replication.password") + "\n"));
        if (o.payload.getProperty("db.superuser.password") != null) {
            secret(secrets.resolve("postgres-postgres.password"),
                    bytes(o.payload.getProperty("db.superuser.password") + "\n"));
        }
        secret(secrets.resolve("ca.p12"), b64.decode(o.payload.getProperty("ca.p12")));
        secret(secrets.resolve("ca.password"), bytes(o.payload.getProperty("ca.password") + "\n"));
        Properties meta = new Properties();
        meta.setProperty("id", o.id.toString());
        meta.setProperty("name", o.name);
        meta.setProperty("role", o.role);
        meta.setProperty("token", o.payload.getProperty("token"));
        meta.setProperty("api.url", o.payload.getProperty("api.url"));
        try (OutputStream out = Files.newOutputStream(create(secrets.resolve("seed.properties")))) {
            meta.store(out, "enrolment seed " + o.id + ": consumed once, then removed");
        }
        Files.writeString(node.resolve("etc/tls/ca.pem"), o.payload.getProperty("ca.pem"), StandardCharsets.UTF_8);
        System.out.println("SEED_NAME=" + o.name);
        System.out.println("SEED_ROLE=" + o.role);
        System.out.println("SEED_UPSTREAM_HOST=" + o.payload.getProperty("upstream.host"));
        System.out.println("SEED_UPSTREAM_PORT=" + o.payload.getProperty("upstream.port"));
    }

    private static void consume(Path node) throws Exception {
        Properties meta = new Properties();
        Path file = node.resolve("secrets/seed.properties");
        try (InputStream in = Files.newInputStream(file)) {
            meta.load(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(node.resolve("etc/tls/ca.pem"))) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        HttpsURLConnection c = (HttpsURLConnection) URI.create(meta.getProperty("api.url") + "/enrolment/"
                + meta.getProperty("id")).toURL().openConnection();
        c.setSSLSocketFactory(ssl.getSocketFactory());
        c.setConnectTimeout(10_000);
        c.setReadTimeout(30_000);
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
        String form = "token=" + enc(meta.getProperty("token")) + "&role=" + enc(meta.getProperty("role")) + "&name="
                + enc(meta.getProperty("name"));
        try (OutputStream out = c.getOutputStream()) {
            out.write(form.getBytes(StandardCharsets.UTF_8));
        }
        int status = c.getResponseCode();
        if (status != 204) {
            InputStream err = c.getErrorStream();
            String body = err == null ? "" : new String(err.readAllBytes(), StandardCharsets.UTF_8);
            throw new IllegalStateException("the Leader refused the seed (" + status + "): " + body);
        }
        Files.delete(file);
        System.out.println("SEED_CONSUMED=" + meta.getProperty("id"));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Path create(Path f) throws IOException {
        Files.deleteIfExists(f);
        return Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    private static void secret(Path f, byte[] content) throws IOException {
        Files.write(create(f), content, StandardOpenOption.WRITE);
    }
}
