package io.coffer.crypto.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.api.crypto.KeyProviderException;
import io.coffer.api.crypto.SealException;

/**
 * The built-in {@code file} provider: a master key the operator supplies, as Conjur's {@code evoke keys
 * encrypt/unlock} does. It comes either from a file named in the configuration (read at each use, so a node whose
 * master key sits on a mounted volume unlocks by itself at start) or from the shell ({@code coffer:keys-unlock
 * --stdin}), in which case it lives in memory only, until the node stops.
 * <p>
 * The master key is at least 32 bytes of text (trailing whitespace ignored). Its id is a one-way fingerprint, so
 * the server-key file says which master key wrapped it without revealing anything about it; the wrapping key is
 * derived from it with HMAC-SHA256 and the root key is sealed with AES-256-GCM under it.
 */
@Component(service = {KeyProvider.class, FileKeyProvider.class}, configurationPid = FileKeyProvider.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = FileKeyProvider.Config.class)
public class FileKeyProvider implements KeyProvider {
    public static final String PID = "io.coffer.keyprovider.file";
    static final int MIN_LENGTH = 32;
    static final int MAX_LENGTH = 4096;

    @ObjectClassDefinition(name = "Coffer master key: file", description = "A master key the operator supplies")
    public @interface Config {
        @AttributeDefinition(description = "File holding the master key (0400 or 0600, at least 32 bytes); empty = "
                + "supply it by hand with coffer:keys-unlock --stdin")
        String master_key_file() default "";
    }

    private final Map<String, SecretKey> supplied = new ConcurrentHashMap<>();
    private volatile Path configured;

    @Activate
    public FileKeyProvider(Config config) {
        configured = config.master_key_file().isBlank() ? null : Paths.get(config.master_key_file().trim());
    }

    @Override
    public String name() {
        return "file";
    }

    /**
     * Keeps a master key in memory for this node's lifetime.
     *
     * @param material the key text; cleared by the caller
     * @return its id
     */
    public String supply(byte[] material) {
        byte[] m = trimmed(material);
        try {
            String id = id(m);
            supplied.put(id, derive(m));
            return id;
        } finally {
            Arrays.fill(m, (byte) 0);
        }
    }

    @Override
    public String defaultKeyId() {
        if (configured != null) {
            return fromFile(configured).getKey();
        }
        if (supplied.size() == 1) {
            return supplied.keySet().iterator().next();
        }
        throw new KeyProviderException(supplied.isEmpty()
                ? "no master key: set master.key.file in " + PID + " or pass one with --stdin"
                : "several master keys were supplied; name one with --key-id");
    }

    @Override
    public WrappedKey wrap(String keyId, byte[] key, String context) {
        return new WrappedKey(keyId, Aead.seal(kek(keyId), 0, key, context));
    }

    @Override
    public byte[] unwrap(String keyId, byte[] wrapped, String context) {
        try {
            return Aead.open(kek(keyId), wrapped, context);
        } catch (SealException e) {
            throw new KeyProviderException("the server key does not unwrap under file master key " + keyId
                    + ": tampered, or not a server key");
        }
    }

    private SecretKey kek(String keyId) {
        SecretKey k = supplied.get(keyId);
        if (k != null) {
            return k;
        }
        Path file = configured;
        if (file != null) {
            Map.Entry<String, SecretKey> e = fromFile(file);
            if (e.getKey().equals(keyId)) {
                return e.getValue();
            }
        }
        throw new KeyProviderException("master key " + keyId + " was not supplied"
                + (file == null ? "" : " (" + file + " holds another one)") + ": pass it with coffer:keys-unlock --stdin"
                + (file == null ? " or set master.key.file in " + PID : ""));
    }

    private static Map.Entry<String, SecretKey> fromFile(Path file) {
        byte[] m = null;
        try {
            if (!Files.isRegularFile(file)) {
                throw new KeyProviderException("master key file " + file + " is missing");
            }
            String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
            if (!perms.substring(3).equals("------")) {
                throw new KeyProviderException("master key file " + file + " is accessible to other users (" + perms
                        + "); chmod 400 it");
            }
            if (Files.size(file) > MAX_LENGTH) {
                throw new KeyProviderException("master key file " + file + " is larger than " + MAX_LENGTH + " bytes");
            }
            m = trimmed(Files.readAllBytes(file));
            return Map.entry(id(m), derive(m));
        } catch (IOException e) {
            throw new KeyProviderException("master key file " + file + " can't be read: " + e.getMessage());
        } finally {
            if (m != null) {
                Arrays.fill(m, (byte) 0);
            }
        }
    }

    private static byte[] trimmed(byte[] material) {
        int end = material.length;
        while (end > 0 && Character.isWhitespace(material[end - 1])) {
            end--;
        }
        if (end < MIN_LENGTH) {
            throw new KeyProviderException("a master key must be at least " + MIN_LENGTH + " bytes (e.g. "
                    + "head -c 48 /dev/urandom | base64)");
        }
        if (end > MAX_LENGTH) {
            throw new KeyProviderException("a master key must be at most " + MAX_LENGTH + " bytes");
        }
        return Arrays.copyOf(material, end);
    }

    private static String id(byte[] master) {
        return "sha256:" + HexFormat.of().formatHex(hmac(master, "coffer:keyprovider-file:id"), 0, 12);
    }

    private static SecretKey derive(byte[] master) {
        byte[] k = hmac(master, "coffer:keyprovider-file:kek");
        try {
            return new SecretKeySpec(k, "AES");
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private static byte[] hmac(byte[] key, String label) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(label.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
