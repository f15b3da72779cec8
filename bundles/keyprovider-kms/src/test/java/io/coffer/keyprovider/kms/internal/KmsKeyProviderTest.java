package io.coffer.keyprovider.kms.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.annotation.Annotation;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.crypto.internal.Keyring;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.store.internal.TestDatabase;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;

/**
 * The real AWS SDK v2 client (default credentials chain, from system properties here) against {@link KmsDouble},
 * and the keyring over a real PostgreSQL with the server key wrapped by it.
 */
public class KmsKeyProviderTest {
    private static final String CONTEXT = "coffer:server-key:v2";
    private static KmsDouble kms;
    private static TestDatabase db;
    private static String arn;

    @BeforeClass
    public static void start() throws Exception {
        kms = new KmsDouble();
        arn = kms.createKey("coffer-master");
        kms.createKey("other");
        db = new TestDatabase();
    }

    @AfterClass
    public static void stop() throws Exception {
        kms.close();
        db.close();
    }

    static KmsKeyProvider provider(String keyId) {
        return kms.provider(keyId);
    }

    @Test
    public void wrapsUnderTheKeyAndContextAndRefusesWhatKmsRefuses() {
        KmsKeyProvider p = provider("alias/coffer-master");
        byte[] root = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        KeyProvider.WrappedKey w = p.wrap(p.defaultKeyId(), root, CONTEXT);
        assertEquals("KMS answers with the key's ARN", arn, w.keyId());
        assertFalse(new String(w.blob(), StandardCharsets.ISO_8859_1).contains("0123456789abcdef"));
        assertArrayEquals(root, p.unwrap(w.keyId(), w.blob(), CONTEXT));
        assertArrayEquals(root, p.unwrap("alias/coffer-master", w.blob(), CONTEXT));

        assertTrue(TestKeys.providerFailure(() -> p.unwrap(w.keyId(), w.blob(), "coffer:other")).contains("another encryption context"));
        byte[] flipped = w.blob();
        flipped[flipped.length - 1] ^= 1;
        assertTrue(TestKeys.providerFailure(() -> p.unwrap(w.keyId(), flipped, CONTEXT)).contains("tampered"));
        assertTrue(TestKeys.providerFailure(() -> p.unwrap("alias/other", w.blob(), CONTEXT)).contains("another KMS key"));
        assertTrue(TestKeys.providerFailure(() -> p.wrap("alias/missing", root, CONTEXT)).contains("does not exist"));

        kms.setEnabled("coffer-master", false);
        try {
            String m = TestKeys.providerFailure(() -> p.unwrap(w.keyId(), w.blob(), CONTEXT));
            assertTrue(m, m.contains("disabled") && m.contains("HTTP 400"));
        } finally {
            kms.setEnabled("coffer-master", true);
        }
    }

    @Test
    public void badConfigurationGetsClearErrors() {
        try {
            provider(" ");
            fail("an empty key id was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("key.id"));
        }
        try {
            new KmsKeyProvider(new KmsKeyProvider.Config() {
                public Class<? extends Annotation> annotationType() { return KmsKeyProvider.Config.class; }
                public String key_id() { return "alias/x"; }
                public String region() { return "us-east-1"; }
                public String endpoint() { return "ftp://kms"; }
                public int timeout_seconds() { return 5; }
            });
            fail("an ftp endpoint was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("https://"));
        }
        String m = TestKeys.providerFailure(() -> new KmsKeyProvider(new KmsKeyProvider.Config() {
            public Class<? extends Annotation> annotationType() { return KmsKeyProvider.Config.class; }
            public String key_id() { return "alias/x"; }
            public String region() { return "us-east-1"; }
            public String endpoint() { return "http://127.0.0.1:1"; }
            public int timeout_seconds() { return 1; }
        }).wrap("alias/x", new byte[32], CONTEXT));
        assertTrue(m, m.contains("KMS at http://127.0.0.1:1 Encrypt with key alias/x failed"));
    }

    @Test
    public void theDoubleSpeaksGenerateDataKeyAndDescribeKeyToTheRealSdk() {
        try (KmsClient c = KmsClient.builder().endpointOverride(URI.create(kms.endpoint())).region(Region.US_EAST_1)
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.create()).build()) {
            GenerateDataKeyResponse g = c.generateDataKey(b -> b.keyId("alias/coffer-master").keySpec(DataKeySpec.AES_256));
            assertEquals(32, g.plaintext().asByteArray().length);
            assertArrayEquals(g.plaintext().asByteArray(),
                    c.decrypt(b -> b.ciphertextBlob(g.ciphertextBlob())).plaintext().asByteArray());
            assertEquals(arn, c.describeKey(b -> b.keyId("alias/coffer-master")).keyMetadata().arn());
        }
    }

    @Test
    public void aNodeWrappedByKmsUnlocksByItselfAfterARestartAndStaysLockedWithoutTheKey() throws Exception {
        Path file = Files.createTempDirectory("coffer-keys").resolve("server.key");
        Keyring k = TestKeys.keyring(db, file);
        byte[] sealed = k.seal("kms-marker".getBytes(StandardCharsets.UTF_8), "demo:variable:x");
        k.addProvider(provider("alias/coffer-master"));
        assertTrue(k.wrap("kms", null, true).contains("wrapped by kms key " + arn));
        assertTrue(Files.readString(file).contains("provider:kms\nkey-id:" + arn + "\n"));

        Keyring restarted = TestKeys.keyring(db, file, provider("alias/coffer-master"));
        assertTrue(String.valueOf(restarted.lockedReason()), restarted.unlocked());
        assertArrayEquals("kms-marker".getBytes(StandardCharsets.UTF_8), restarted.open(sealed, "demo:variable:x"));

        kms.setEnabled("coffer-master", false);
        try {
            Keyring locked = TestKeys.keyring(db, file, provider("alias/coffer-master"));
            assertFalse(locked.unlocked());
            assertTrue(locked.lockedReason(), locked.lockedReason().contains("the key is disabled"));
            kms.setEnabled("coffer-master", true);
            assertTrue(locked.unlock().contains("wrapped by kms"));
            assertArrayEquals("kms-marker".getBytes(StandardCharsets.UTF_8), locked.open(sealed, "demo:variable:x"));
        } finally {
            kms.setEnabled("coffer-master", true);
        }
        Keyring noProvider = TestKeys.keyring(db, file);
        assertTrue(noProvider.lockedReason(), noProvider.lockedReason().contains("coffer-keyprovider-kms"));
    }
}
