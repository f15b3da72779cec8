package io.coffer.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.crypto.KeysLockedException;
import io.coffer.api.crypto.SealException;
import io.coffer.store.internal.TestDatabase;

/** The key hierarchy against a real PostgreSQL with the real schema. */
public class KeyringTest {
    private static TestDatabase db;
    private static Path dir;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        dir = Files.createTempDirectory("coffer-keys");
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    static Keyring keyring(Path file) {
        return TestKeys.keyring(db, file);
    }

    @Test
    public void sealsBindContextAndSurviveARestart() throws Exception {
        Path file = dir.resolve("server.key");
        Keyring k = keyring(file);
        assertTrue(k.check().toMap().toString(), k.check().ok());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        byte[] secret = "s3cr3t-marker-value".getBytes(StandardCharsets.UTF_8);
        byte[] a = k.seal(secret, "demo:variable:db/password");
        byte[] b = k.seal(secret, "demo:variable:db/password");
        assertFalse("fresh nonce each time", java.util.Arrays.equals(a, b));
        assertFalse("no plaintext in the blob", new String(a, StandardCharsets.ISO_8859_1).contains("marker"));
        assertArrayEquals(secret, k.open(a, "demo:variable:db/password"));
        try {
            k.open(a, "demo:variable:other");
            fail("opened under another context");
        } catch (SealException expected) {
            assertFalse(expected.getMessage().contains("marker"));
        }
        byte[] tampered = a.clone();
        tampered[tampered.length - 1] ^= 1;
        try {
            k.open(tampered, "demo:variable:db/password");
            fail("tampered blob opened");
        } catch (SealException expected) {
            // fine
        }
        // A restart with the same server-key file reuses data key v1 and opens old blobs.
        Keyring again = keyring(file);
        assertArrayEquals(secret, again.open(a, "demo:variable:db/password"));
        // Derived keys (audit chain) follow the root key: the same after a restart, one per purpose.
        assertArrayEquals(k.derive("coffer:audit:mac:v1:n1"), again.derive("coffer:audit:mac:v1:n1"));
        assertFalse(java.util.Arrays.equals(k.derive("coffer:audit:mac:v1:n1"), k.derive("coffer:audit:mac:v1:n2")));
        try (Connection c = db.dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT (SELECT count(*) FROM keyring), (SELECT count(*) FROM change_log WHERE kind='keyring')")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
            assertEquals(1, rs.getInt(2));
        }
    }

    @Test
    public void aForeignRootKeyLeavesTheNodeLocked() throws Exception {
        keyring(dir.resolve("server.key"));
        Path other = dir.resolve("other.key");
        Files.writeString(other, ServerKeyFile.HEADER + "\nroot:" + java.util.Base64.getEncoder()
                .encodeToString(new byte[32]) + "\n");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-------"));
        Keyring foreign = keyring(other);
        assertFalse(foreign.check().ok());
        assertTrue(foreign.check().details().get("error").toString().contains("another cluster"));
        try {
            foreign.seal(new byte[] {1}, "x");
            fail("a locked node sealed");
        } catch (KeysLockedException expected) {
            // fine
        }
        try {
            foreign.derive("coffer:audit:mac:v1:n1");
            fail("a locked node derived a key");
        } catch (KeysLockedException expected) {
            // fine
        }
    }

    @Test
    public void aServerKeyFileReadableByOthersIsRefused() throws Exception {
        Path file = dir.resolve("server.key");
        keyring(file);
        Path loose = dir.resolve("loose.key");
        Files.copy(file, loose);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        Keyring k = keyring(loose);
        assertFalse(k.check().ok());
        assertTrue(k.check().details().get("error").toString(), k.check().details().get("error").toString()
                .contains("chmod 600"));
        assertNotEquals(null, k.check().details().get("error"));
    }
}
