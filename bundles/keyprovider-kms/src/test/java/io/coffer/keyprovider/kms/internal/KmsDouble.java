package io.coffer.keyprovider.kms.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A KMS stand-in for tests: speaks AWS JSON 1.1 ({@code X-Amz-Target: TrentService.*}) on 127.0.0.1, so the real
 * SDK v2 client talks to it unchanged. It enforces what KMS enforces for symmetric keys: the key must exist and be
 * enabled, the ciphertext names its key, the encryption context is bound as AAD, a Decrypt naming another key fails
 * with {@code IncorrectKeyException}, and errors carry KMS's {@code __type}s.
 */
public final class KmsDouble implements AutoCloseable {
    static final String ACCOUNT = "111122223333";
    static final String REGION = "us-east-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private static final class Key {
        final String id = UUID.randomUUID().toString();
        final byte[] material = new byte[32];
        volatile boolean enabled = true;

        Key() {
            RANDOM.nextBytes(material);
        }

        String arn() {
            return "arn:aws:kms:" + REGION + ":" + ACCOUNT + ":key/" + id;
        }
    }

    /** An error KMS would answer. */
    private static final class KmsError extends Exception {
        private static final long serialVersionUID = 1L;
        final String type;

        KmsError(String type, String message) {
            super(message);
            this.type = type;
        }
    }

    private final Map<String, Key> keys = new ConcurrentHashMap<>();
    private final Map<String, String> aliases = new ConcurrentHashMap<>();
    private final HttpServer server;
    final AtomicInteger calls = new AtomicInteger();

    public KmsDouble() throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** @return the new key's ARN; reachable also as {@code alias/NAME} */
    public String createKey(String alias) {
        Key k = new Key();
        keys.put(k.id, k);
        aliases.put("alias/" + alias, k.id);
        return k.arn();
    }

    /** @return the real provider, talking to this server, with {@code keyId} as its default key */
    public KmsKeyProvider provider(String keyId) {
        return new KmsKeyProvider(new KmsKeyProvider.Config() {
            public java.lang.Class<? extends java.lang.annotation.Annotation> annotationType() {
                return KmsKeyProvider.Config.class;
            }
            public String key_id() { return keyId; }
            public String region() { return REGION; }
            public String endpoint() { return KmsDouble.this.endpoint(); }
            public int timeout_seconds() { return 5; }
        });
    }

    public void setEnabled(String alias, boolean enabled) {
        keys.get(aliases.get("alias/" + alias)).enabled = enabled;
    }

    public void deleteKey(String alias) {
        keys.remove(aliases.remove("alias/" + alias));
    }

    /**
     * Runs the stand-in on its own for shell-level tests: {@code KmsDouble ALIAS...} creates one key per alias,
     * prints {@code KMS_ENDPOINT=http://127.0.0.1:PORT} and serves until killed.
     */
    public static void main(String[] args) throws Exception {
        KmsDouble kms = new KmsDouble();
        for (String alias : args) {
            kms.createKey(alias);
        }
        System.out.println("KMS_ENDPOINT=" + kms.endpoint());
        System.out.flush();
        Thread.currentThread().join();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        calls.incrementAndGet();
        String target = String.valueOf(ex.getRequestHeaders().getFirst("X-Amz-Target"));
        String auth = String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
        try (InputStream in = ex.getRequestBody()) {
            JsonNode req = JSON.readTree(in.readAllBytes());
            if (!"POST".equals(ex.getRequestMethod())) {
                throw new KmsError("UnknownOperationException", "POST only");
            }
            if (!auth.startsWith("AWS4-HMAC-SHA256 Credential=") || !auth.contains("/kms/aws4_request")) {
                throw new KmsError("IncompleteSignatureException", "request not signed for kms");
            }
            ObjectNode out;
            switch (target) {
                case "TrentService.Encrypt": out = encrypt(req); break;
                case "TrentService.Decrypt": out = decrypt(req); break;
                case "TrentService.GenerateDataKey": out = generateDataKey(req); break;
                case "TrentService.DescribeKey": out = describeKey(req); break;
                default: throw new KmsError("UnknownOperationException", "unsupported: " + target);
            }
            send(ex, 200, out);
        } catch (KmsError e) {
            ObjectNode err = JSON.createObjectNode().put("__type", e.type).put("message", e.getMessage());
            send(ex, 400, err);
        } catch (RuntimeException e) {
            send(ex, 400, JSON.createObjectNode().put("__type", "ValidationException").put("message", e.toString()));
        }
    }

    private static void send(HttpExchange ex, int status, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    private Key resolve(String keyId) throws KmsError {
        if (keyId == null || keyId.isEmpty()) {
            throw new KmsError("ValidationException", "KeyId is required");
        }
        String id = keyId;
        if (id.startsWith("arn:aws:kms:")) {
            id = id.substring(id.lastIndexOf(':') + 1);
            if (id.startsWith("key/")) {
                id = id.substring(4);
            }
        }
        if (id.startsWith("alias/")) {
            id = aliases.getOrDefault(id, "");
        }
        Key k = keys.get(id);
        if (k == null) {
            throw new KmsError("NotFoundException", "Key '" + keyId + "' does not exist");
        }
        return k;
    }

    private static Key usable(Key k) throws KmsError {
        if (!k.enabled) {
            throw new KmsError("DisabledException", k.arn() + " is disabled.");
        }
        return k;
    }

    private static byte[] context(JsonNode req) {
        Map<String, String> ctx = new TreeMap<>();
        req.path("EncryptionContext").fields().forEachRemaining(e -> ctx.put(e.getKey(), e.getValue().asText()));
        StringBuilder sb = new StringBuilder();
        ctx.forEach((k, v) -> sb.append(k.length()).append(':').append(k).append(v.length()).append(':').append(v));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] blob(JsonNode req, String field) throws KmsError {
        if (!req.hasNonNull(field)) {
            throw new KmsError("ValidationException", field + " is required");
        }
        return Base64.getDecoder().decode(req.get(field).asText());
    }

    /** Ciphertext: key id (36 ASCII) | nonce (12) | ct+tag. */
    private static byte[] seal(Key k, byte[] plaintext, byte[] aad) throws GeneralSecurityException {
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k.material, "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD(aad);
        byte[] ct = c.doFinal(plaintext);
        return ByteBuffer.allocate(36 + 12 + ct.length).put(k.id.getBytes(StandardCharsets.US_ASCII)).put(nonce)
                .put(ct).array();
    }

    private ObjectNode encrypt(JsonNode req) throws KmsError {
        Key k = usable(resolve(req.path("KeyId").asText(null)));
        byte[] plaintext = blob(req, "Plaintext");
        if (plaintext.length == 0 || plaintext.length > 4096) {
            throw new KmsError("ValidationException", "Plaintext must be 1 to 4096 bytes");
        }
        try {
            return JSON.createObjectNode().put("KeyId", k.arn()).put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                    .put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(k, plaintext, context(req))));
        } catch (GeneralSecurityException e) {
            throw new KmsError("KMSInternalException", e.toString());
        }
    }

    private ObjectNode decrypt(JsonNode req) throws KmsError {
        byte[] blob = blob(req, "CiphertextBlob");
        if (blob.length < 36 + 12 + 16) {
            throw new KmsError("InvalidCiphertextException", "");
        }
        Key k = keys.get(new String(blob, 0, 36, StandardCharsets.US_ASCII));
        if (k == null) {
            throw new KmsError("InvalidCiphertextException", "");
        }
        if (req.hasNonNull("KeyId") && resolve(req.get("KeyId").asText()) != k) {
            throw new KmsError("IncorrectKeyException", "The key ID in the request does not identify a CMK that "
                    + "can perform this operation.");
        }
        usable(k);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k.material, "AES"), new GCMParameterSpec(128, blob, 36, 12));
            c.updateAAD(context(req));
            byte[] plain = c.doFinal(blob, 48, blob.length - 48);
            return JSON.createObjectNode().put("KeyId", k.arn()).put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
                    .put("Plaintext", Base64.getEncoder().encodeToString(plain));
        } catch (GeneralSecurityException e) {
            throw new KmsError("InvalidCiphertextException", "");
        }
    }

    private ObjectNode generateDataKey(JsonNode req) throws KmsError {
        Key k = usable(resolve(req.path("KeyId").asText(null)));
        int n = req.has("NumberOfBytes") ? req.get("NumberOfBytes").asInt()
                : "AES_128".equals(req.path("KeySpec").asText()) ? 16
                : "AES_256".equals(req.path("KeySpec").asText()) ? 32 : -1;
        if (n < 1 || n > 1024) {
            throw new KmsError("ValidationException", "KeySpec (AES_128 or AES_256) or NumberOfBytes (1-1024) needed");
        }
        byte[] plain = new byte[n];
        RANDOM.nextBytes(plain);
        try {
            return JSON.createObjectNode().put("KeyId", k.arn())
                    .put("Plaintext", Base64.getEncoder().encodeToString(plain))
                    .put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(k, plain, context(req))));
        } catch (GeneralSecurityException e) {
            throw new KmsError("KMSInternalException", e.toString());
        }
    }

    private ObjectNode describeKey(JsonNode req) throws KmsError {
        Key k = resolve(req.path("KeyId").asText(null));
        ObjectNode out = JSON.createObjectNode();
        out.putObject("KeyMetadata").put("KeyId", k.id).put("Arn", k.arn()).put("AWSAccountId", ACCOUNT)
                .put("Enabled", k.enabled).put("KeyState", k.enabled ? "Enabled" : "Disabled")
                .put("KeyUsage", "ENCRYPT_DECRYPT").put("KeySpec", "SYMMETRIC_DEFAULT");
        return out;
    }
}
