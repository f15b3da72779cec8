package io.coffer.crypto.internal;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.api.crypto.KeyProviderException;
import io.coffer.api.store.Database;

/** A keyring over a test database with a fresh server-key file (in this module's test-jar). */
public final class TestKeys {
    private TestKeys() {
    }

    /**
     * @param providers master-key providers present from the start
     * @return a keyring unlocked with the root key in {@code file} (created when absent), or locked with the reason
     */
    public static Keyring keyring(Database db, Path file, KeyProvider... providers) {
        Keyring k = new Keyring(db, new Keyring.Config() {
            public Class<? extends Annotation> annotationType() { return Keyring.Config.class; }
            public String server_key_file() { return file.toString(); }
            public int unlock_retry_seconds() { return 0; }
            public int rotation_grace_seconds() { return 0; }
        });
        for (KeyProvider p : providers) {
            k.addProvider(p);
        }
        k.activate();
        return k;
    }

    /** @return the message of the {@link KeyProviderException} {@code r} throws; fails when it throws none */
    public static String providerFailure(Runnable r) {
        try {
            r.run();
        } catch (KeyProviderException e) {
            return e.getMessage();
        }
        throw new AssertionError("no KeyProviderException");
    }

    /** @return a keyring with a new server-key file in a temporary folder */
    public static Keyring keyring(Database db) throws Exception {
        return keyring(db, Files.createTempDirectory("coffer-keys").resolve("server.key"));
    }
}
