package io.coffer.keyprovider.hsm.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Arrays;
import java.util.regex.Pattern;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.crypto.KeyProvider;
import io.coffer.api.crypto.KeyProviderException;

/**
 * The {@code hsm} provider: a non-extractable AES-256 key on a PKCS#11 token (through the JDK's SunPKCS11)
 * AES-GCM-encrypts the server key, the wrap context as AAD. PKCS#11 key wrapping is not used: SunPKCS11 offers no
 * working AES key wrap for common tokens (SoftHSM2), and encrypting the key bytes gives the same protection — the
 * master key never leaves the token. The PIN comes from the environment or an owner-only file, never from the
 * configuration.
 */
@Component(service = KeyProvider.class, configurationPid = HsmKeyProvider.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = HsmKeyProvider.Config.class)
public class HsmKeyProvider implements KeyProvider {
    public static final String PID = "io.coffer.keyprovider.hsm";
    private static final Logger LOG = LoggerFactory.getLogger(HsmKeyProvider.class);
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final byte MAGIC = 'H';
    private static final int NONCE = 12;
    private static final SecureRandom RANDOM = new SecureRandom();

    @ObjectClassDefinition(name = "Coffer master key: HSM (PKCS#11)", description = "A token key wraps the server key")
    public @interface Config {
        @AttributeDefinition(description = "The token's PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so")
        String library();

        @AttributeDefinition(description = "Which token: index in the list of slots that hold one")
        int slot_list_index() default 0;

        @AttributeDefinition(description = "Label of the AES key new wraps use")
        String key_label() default "coffer-master";

        @AttributeDefinition(description = "Environment variable holding the user PIN")
        String pin_env() default "COFFER_HSM_PIN";

        @AttributeDefinition(description = "File holding the user PIN (owner-only, e.g. 0400); used when the "
                + "environment variable is unset")
        String pin_file() default "";

        @AttributeDefinition(description = "Create the key (AES-256, sensitive, non-extractable) on the token when "
                + "a wrap names a label that does not exist yet")
        boolean generate_key() default true;
    }

    private final Provider p11;
    private final KeyStore token;
    private final String keyLabel;
    private final boolean generate;
    private final String where;

    @Activate
    public HsmKeyProvider(Config config) {
        String library = config.library() == null ? "" : config.library().trim();
        if (library.isEmpty() || !Files.isRegularFile(Paths.get(library))) {
            throw new IllegalArgumentException(PID + ": library '" + library + "' is not a PKCS#11 module file");
        }
        if (library.contains("\"") || library.contains("\n")) {
            throw new IllegalArgumentException(PID + ": library path may not contain quotes or line breaks");
        }
        if (config.slot_list_index() < 0) {
            throw new IllegalArgumentException(PID + ": slot.list.index must be 0 or more");
        }
        this.keyLabel = label(config.key_label());
        this.generate = config.generate_key();
        char[] pin = pin(config);
        // Inline SunPKCS11 configuration ("--" prefix): nothing is written to disk. The template makes every AES key
        // this provider generates sensitive and non-extractable.
        String cfg = String.join("\n", "--name = coffer-hsm", "library = \"" + library + "\"",
                "slotListIndex = " + config.slot_list_index(),
                "attributes(generate, CKO_SECRET_KEY, CKK_AES) = {", "  CKA_SENSITIVE = true",
                "  CKA_EXTRACTABLE = false", "  CKA_ENCRYPT = true", "  CKA_DECRYPT = true", "}");
        try {
            Provider base = Security.getProvider("SunPKCS11");
            if (base == null) {
                throw new IllegalStateException(PID + ": this JDK has no SunPKCS11 provider");
            }
            this.p11 = base.configure(cfg);
            this.token = KeyStore.getInstance("PKCS11", p11);
            token.load(null, pin);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            throw new IllegalStateException(PID + ": the token can't be opened (module " + library + ", slot index "
                    + config.slot_list_index() + "): " + rootMessage(e));
        } finally {
            Arrays.fill(pin, '\0');
        }
        this.where = "token in slot index " + config.slot_list_index() + " of " + library;
        LOG.info("master-key provider 'hsm' ready: {}, default key label {}", where, keyLabel);
    }

    @Deactivate
    void close() {
        try {
            token.load(null, null);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            LOG.debug("token logout: {}", e.toString());
        }
    }

    private static char[] pin(Config config) {
        String env = config.pin_env() == null || config.pin_env().isBlank() ? null : System.getenv(config.pin_env());
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        String f = config.pin_file() == null ? "" : config.pin_file().trim();
        if (f.isEmpty()) {
            throw new IllegalArgumentException(PID + ": no PIN: set the environment variable " + config.pin_env()
                    + " or pin.file");
        }
        Path file = Paths.get(f);
        try {
            String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
            if (!perms.substring(3).equals("------")) {
                throw new IllegalArgumentException(PID + ": PIN file " + file + " is accessible to other users ("
                        + perms + "); chmod 400 it");
            }
            byte[] raw = Files.readAllBytes(file);
            try {
                String s = new String(raw, StandardCharsets.UTF_8).strip();
                if (s.isEmpty()) {
                    throw new IllegalArgumentException(PID + ": PIN file " + file + " is empty");
                }
                return s.toCharArray();
            } finally {
                Arrays.fill(raw, (byte) 0);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(PID + ": PIN file " + file + " can't be read: " + e.getMessage());
        }
    }

    private static String label(String label) {
        String l = label == null ? "" : label.trim();
        if (!LABEL.matcher(l).matches()) {
            throw new KeyProviderException("key label '" + l.codePoints().limit(64).map(c -> c < 0x20 ? '?' : c)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                    + "': expected 1-64 letters, digits, '.', '_', ':' or '-'");
        }
        return l;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    @Override
    public String name() {
        return "hsm";
    }

    @Override
    public String defaultKeyId() {
        return keyLabel;
    }

    synchronized SecretKey key(String label, boolean create) {
        try {
            Key k = token.getKey(label, null);
            if (k instanceof SecretKey) {
                return (SecretKey) k;
            }
            if (k != null) {
                throw new KeyProviderException("token object '" + label + "' is not a secret key");
            }
            if (!create) {
                throw new KeyProviderException("no key labelled '" + label + "' on the " + where);
            }
            KeyGenerator gen = KeyGenerator.getInstance("AES", p11);
            gen.init(256);
            token.setKeyEntry(label, gen.generateKey(), null, null);
            LOG.info("created AES-256 key '{}' on the {} (sensitive, non-extractable)", label, where);
            return (SecretKey) token.getKey(label, null);
        } catch (GeneralSecurityException e) {
            throw new KeyProviderException("the " + where + " can't give key '" + label + "': " + rootMessage(e));
        }
    }

    @Override
    public WrappedKey wrap(String keyId, byte[] key, String context) {
        String label = label(keyId);
        SecretKey k = key(label, generate);
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p11);
            c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, nonce));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(key);
            return new WrappedKey(label, ByteBuffer.allocate(1 + NONCE + ct.length).put(MAGIC).put(nonce).put(ct)
                    .array());
        } catch (GeneralSecurityException e) {
            throw new KeyProviderException("the " + where + " can't encrypt with key '" + label + "': "
                    + rootMessage(e));
        }
    }

    @Override
    public byte[] unwrap(String keyId, byte[] wrapped, String context) {
        String label = label(keyId);
        if (wrapped == null || wrapped.length < 1 + NONCE + 16 || wrapped[0] != MAGIC) {
            throw new KeyProviderException("the wrapped server key is not an HSM-wrapped blob");
        }
        SecretKey k = key(label, false);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p11);
            c.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(128, wrapped, 1, NONCE));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(wrapped, 1 + NONCE, wrapped.length - 1 - NONCE);
        } catch (AEADBadTagException e) {
            throw new KeyProviderException("the wrapped server key does not decrypt under token key '" + label
                    + "': tampered, another context, or another key with this label");
        } catch (GeneralSecurityException e) {
            throw new KeyProviderException("the " + where + " can't decrypt with key '" + label + "': "
                    + rootMessage(e));
        }
    }
}
