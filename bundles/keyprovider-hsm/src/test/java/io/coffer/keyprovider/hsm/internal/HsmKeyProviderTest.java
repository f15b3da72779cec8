package io.coffer.keyprovider.hsm.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.crypto.internal.Keyring;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.keyprovider.kms.internal.KmsDouble;
import io.coffer.keyprovider.kms.internal.KmsKeyProvider;
import io.coffer.store.internal.TestDatabase;

/** The HSM provider on a real SoftHSM2 token, and the keyring over a real PostgreSQL with the server key on it. */
public class HsmKeyProviderTest {
    private static final String CONTEXT = "coffer:server-key:v2";
    private static String library;
    private static TestDatabase db;

    @BeforeClass
    public static void start() throws Exception {
        library = SoftHsm.token();
        db = new TestDatabase();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    static HsmKeyProvider provider(String label) {
        return SoftHsm.provider(library, label, "COFFER_HSM_PIN", "");
    }

    @Test
    public void aNonExtractableTokenKeyWrapsAndRefusesTamperingAndOtherContexts() {
        HsmKeyProvider p = provider("unit-master");
        byte[] root = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        KeyProvider.WrappedKey w = p.wrap(p.defaultKeyId(), root, CONTEXT);
        assertEquals("unit-master", w.keyId());
        assertNull("the token key never leaves the token", p.key("unit-master", false).getEncoded());
        assertArrayEquals(root, p.unwrap("unit-master", w.blob(), CONTEXT));
        // A second provider instance (a restart) finds the same persistent token key.
        assertArrayEquals(root, provider("unit-master").unwrap("unit-master", w.blob(), CONTEXT));

        assertTrue(TestKeys.providerFailure(() -> p.unwrap("unit-master", w.blob(), "coffer:other")).contains("another context"));
        byte[] flipped = w.blob();
        flipped[flipped.length - 5] ^= 1;
        assertTrue(TestKeys.providerFailure(() -> p.unwrap("unit-master", flipped, CONTEXT)).contains("tampered"));
        assertTrue(TestKeys.providerFailure(() -> p.unwrap("absent-key", w.blob(), CONTEXT)).contains("no key labelled 'absent-key'"));
        p.wrap("other-master", root, CONTEXT);
        assertTrue(TestKeys.providerFailure(() -> p.unwrap("other-master", w.blob(), CONTEXT)).contains("tampered"));
        assertTrue(TestKeys.providerFailure(() -> p.wrap("bad label!", root, CONTEXT)).contains("expected 1-64 letters"));
    }

    @Test
    public void thePinComesFromTheEnvironmentOrAnOwnerOnlyFile() throws Exception {
        Path dir = Files.createTempDirectory("coffer-hsm-pin");
        Path pin = dir.resolve("pin");
        try {
            pinSources(dir, pin);
        } finally {
            Files.deleteIfExists(pin);
            Files.deleteIfExists(dir);
        }
    }

    private void pinSources(Path dir, Path pin) throws Exception {
        Files.writeString(pin, SoftHsm.PIN + "\n");
        Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("r--------"));
        assertEquals("coffer-master", SoftHsm.provider(library, "coffer-master", "COFFER_NO_SUCH_VAR", pin.toString())
                .defaultKeyId());
        Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            SoftHsm.provider(library, "coffer-master", "COFFER_NO_SUCH_VAR", pin.toString());
            fail("a world-readable PIN file was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("chmod 400"));
        }
        try {
            SoftHsm.provider(library, "coffer-master", "COFFER_NO_SUCH_VAR", "");
            fail("no PIN at all was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("no PIN"));
        }
        try {
            SoftHsm.provider(dir.resolve("nope.so").toString(), "coffer-master", "COFFER_HSM_PIN", "");
            fail("a missing module was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is not a PKCS#11 module file"));
        }
    }

    @Test
    public void encryptRestartUnlockByItselfAndSwapKmsForHsmOnline() throws Exception {
        Path file = Files.createTempDirectory("coffer-keys").resolve("server.key");
        try (KmsDouble kms = new KmsDouble()) {
            kms.createKey("coffer-master");
            KmsKeyProvider kmsProvider = kms.provider("alias/coffer-master");
            Keyring k = TestKeys.keyring(db, file, kmsProvider);
            byte[][] sealed = new byte[20][];
            for (int i = 0; i < sealed.length; i++) {
                sealed[i] = k.seal(("value-" + i).getBytes(StandardCharsets.UTF_8), "demo:variable:v" + i);
            }
            k.wrap("kms", null, true);
            assertTrue(TestKeys.keyring(db, file, kmsProvider).unlocked());

            // KMS → HSM while running: every value stays readable, nothing restarts.
            k.addProvider(provider("coffer-master"));
            assertTrue(k.wrap("hsm", null, false).contains("now wrapped by hsm key coffer-master (was kms key arn:"));
            for (int i = 0; i < sealed.length; i++) {
                assertArrayEquals(("value-" + i).getBytes(StandardCharsets.UTF_8),
                        k.open(sealed[i], "demo:variable:v" + i));
            }
            assertTrue(Files.readString(file).contains("provider:hsm\nkey-id:coffer-master\n"));

            // A restart unlocks through the token alone; KMS no longer opens it.
            Keyring restarted = TestKeys.keyring(db, file, provider("coffer-master"));
            assertTrue(String.valueOf(restarted.lockedReason()), restarted.unlocked());
            assertArrayEquals("value-7".getBytes(StandardCharsets.UTF_8), restarted.open(sealed[7], "demo:variable:v7"));
            Keyring kmsOnly = TestKeys.keyring(db, file, kmsProvider);
            assertFalse(kmsOnly.unlocked());
            assertTrue(kmsOnly.lockedReason(), kmsOnly.lockedReason().contains("coffer-keyprovider-hsm"));
        }
        // The token no longer has the key under the label the file names: locked, and the reason says so.
        String text = Files.readString(file).replace("key-id:coffer-master", "key-id:gone-key");
        Files.writeString(file, text);
        Keyring gone = TestKeys.keyring(db, file, provider("coffer-master"));
        assertFalse(gone.unlocked());
        assertTrue(gone.lockedReason(), gone.lockedReason().contains("no key labelled 'gone-key'"));
    }
}
