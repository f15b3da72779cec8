package io.coffer.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.crypto.KeyProviderException;
import io.coffer.api.crypto.KeysLockedException;
import io.coffer.store.internal.TestDatabase;

/** The server key wrapped by the built-in file provider, against a real PostgreSQL. */
public class MasterKeyTest {
    private static final String MASTER = "bWFzdGVyLWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5YWJjZGVm\n";
    private static final String CONTEXT = "demo:variable:db/password";
    private static TestDatabase db;
    private static Path dir;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        dir = Files.createTempDirectory("coffer-keys");
        // The cluster's root key: every test starts from a copy of this node's cleartext server-key file.
        TestKeys.keyring(db, dir.resolve("base.key"));
    }

    static Path copyOfServerKey(String name) throws Exception {
        Path f = dir.resolve(name);
        Files.copy(dir.resolve("base.key"), f, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        return f;
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    static FileKeyProvider provider(Path masterFile) {
        return new FileKeyProvider(new FileKeyProvider.Config() {
            public Class<? extends Annotation> annotationType() { return FileKeyProvider.Config.class; }
            public String master_key_file() { return masterFile == null ? "" : masterFile.toString(); }
        });
    }

    static Path masterFile(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
        return f;
    }

    @Test
    public void encryptRestartUnlockByItselfAndStayLockedWithoutTheMasterKey() throws Exception {
        Path file = copyOfServerKey("enc.key");
        Path master = masterFile("master-a", MASTER);
        Keyring k = TestKeys.keyring(db, file, provider(master));
        byte[] sealed = k.seal("marker-1".getBytes(StandardCharsets.UTF_8), CONTEXT);
        String out = k.wrap("file", null, true);
        assertTrue(out, out.contains("wrapped by file key sha256:"));
        String text = Files.readString(file);
        assertTrue(text.startsWith(ServerKeyFile.HEADER_WRAPPED + "\nprovider:file\nkey-id:sha256:"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue("the node stays unlocked", k.unlocked());

        // Restart with the master key configured: unlocks by itself and opens old values.
        Keyring again = TestKeys.keyring(db, file, provider(master));
        assertTrue(String.valueOf(again.lockedReason()), again.unlocked());
        assertArrayEquals("marker-1".getBytes(StandardCharsets.UTF_8), again.open(sealed, CONTEXT));
        assertEquals("file", again.check().details().get("server_key"));

        // Restart without any provider: locked, and says what is missing.
        Keyring none = TestKeys.keyring(db, file);
        assertFalse(none.unlocked());
        assertEquals("locked", none.check().details().get("state"));
        assertTrue(none.lockedReason(), none.lockedReason().contains("coffer-keyprovider-file"));
        try {
            none.open(sealed, CONTEXT);
            fail("a locked node opened a value");
        } catch (KeysLockedException expected) {
            // fine
        }
        // The provider arrives later: the node unlocks without a restart.
        none.addProvider(provider(master));
        for (int i = 0; i < 100 && !none.unlocked(); i++) {
            Thread.sleep(50);
        }
        assertTrue(String.valueOf(none.lockedReason()), none.unlocked());

        // A provider without the master key (prompt mode): locked until the key is supplied by hand.
        FileKeyProvider prompt = provider(null);
        Keyring manual = TestKeys.keyring(db, file, prompt);
        assertFalse(manual.unlocked());
        assertTrue(manual.lockedReason(), manual.lockedReason().contains("was not supplied"));
        try {
            manual.unlock();
            fail("unlocked without the master key");
        } catch (IllegalStateException expected) {
            assertFalse(expected.getMessage().contains(MASTER.trim()));
        }
        prompt.supply(MASTER.getBytes(StandardCharsets.US_ASCII));
        assertTrue(manual.unlock().contains("wrapped by file key"));
        assertArrayEquals("marker-1".getBytes(StandardCharsets.UTF_8), manual.open(sealed, CONTEXT));
    }

    @Test
    public void rotateMasterOnlineAndTheOldMasterKeyNoLongerOpens() throws Exception {
        Path file = copyOfServerKey("rot.key");
        FileKeyProvider p = provider(null);
        String a = p.supply(MASTER.getBytes(StandardCharsets.US_ASCII));
        String b = p.supply(("another-" + MASTER).getBytes(StandardCharsets.US_ASCII));
        Keyring k = TestKeys.keyring(db, file, p);
        byte[] sealed = k.seal("marker-2".getBytes(StandardCharsets.UTF_8), CONTEXT);
        k.wrap("file", a, true);
        try {
            k.wrap("file", b, true);
            fail("keys-encrypt re-wrapped a wrapped key");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("keys-rotate-master"));
        }
        assertTrue(k.wrap("file", b, false).contains("was file key " + a));
        assertTrue(k.unlocked());
        assertArrayEquals("marker-2".getBytes(StandardCharsets.UTF_8), k.open(sealed, CONTEXT));

        FileKeyProvider onlyA = provider(masterFile("master-only-a", MASTER));
        Keyring old = TestKeys.keyring(db, file, onlyA);
        assertFalse(old.unlocked());
        assertTrue(old.lockedReason(), old.lockedReason().contains(b));
        FileKeyProvider onlyB = provider(masterFile("master-only-b", "another-" + MASTER));
        assertTrue(TestKeys.keyring(db, file, onlyB).unlocked());
    }

    @Test
    public void aFlippedByteInTheWrappedServerKeyLeavesTheNodeLocked() throws Exception {
        Path file = copyOfServerKey("flip.key");
        Path master = masterFile("master-flip", MASTER);
        TestKeys.keyring(db, file, provider(master)).wrap("file", null, true);
        String[] lines = Files.readString(file).split("\n");
        byte[] blob = Base64.getDecoder().decode(lines[3].substring("wrapped:".length()));
        blob[blob.length - 3] ^= 1;
        lines[3] = "wrapped:" + Base64.getEncoder().encodeToString(blob);
        Files.writeString(file, String.join("\n", lines) + "\n");
        Keyring k = TestKeys.keyring(db, file, provider(master));
        assertFalse(k.unlocked());
        assertTrue(k.lockedReason(), k.lockedReason().contains("tampered"));
    }

    @Test
    public void badMasterKeysAndFilesGetClearErrors() throws Exception {
        try {
            provider(null).supply("short".getBytes(StandardCharsets.US_ASCII));
            fail("a 5-byte master key was accepted");
        } catch (KeyProviderException expected) {
            assertTrue(expected.getMessage().contains("at least 32 bytes"));
        }
        Path loose = dir.resolve("loose-master");
        Files.writeString(loose, MASTER);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            provider(loose).defaultKeyId();
            fail("a world-readable master key file was accepted");
        } catch (KeyProviderException expected) {
            assertTrue(expected.getMessage().contains("chmod 400"));
        }
        try {
            provider(null).defaultKeyId();
            fail("a default key id without a master key");
        } catch (KeyProviderException expected) {
            assertTrue(expected.getMessage().contains("no master key"));
        }
        Keyring k = TestKeys.keyring(db, copyOfServerKey("bad-provider.key"));
        try {
            k.wrap("nope", null, true);
            fail("wrapped with an absent provider");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("no master-key provider 'nope'"));
        }
        Path garbage = dir.resolve("garbage.key");
        Files.writeString(garbage, ServerKeyFile.HEADER_WRAPPED + "\nprovider:Bad Name\nkey-id:x\nwrapped:AA==\n");
        Files.setPosixFilePermissions(garbage, PosixFilePermissions.fromString("rw-------"));
        Keyring g = TestKeys.keyring(db, garbage);
        assertFalse(g.unlocked());
        assertTrue(g.lockedReason(), g.lockedReason().contains("not a Coffer server-key file"));
    }
}
