package io.coffer.replication.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Properties;
import java.util.UUID;

import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An enrolment seed as text: {@code coffer-seed-1:<id>:<name>:<role>:<expires>:<salt>:<nonce>:<ciphertext>}. The
 * header is readable (so a launcher can refuse a Follower seed for a Standby before asking for the passphrase) and
 * bound into the AES-256-GCM tag, so editing it breaks decryption. The key comes from the one-time passphrase by
 * PBKDF2-HMAC-SHA256; the payload is a properties map (root key, CA, database passwords, upstream, a consumption
 * token). Plain JDK only: the launcher runs this class outside Karaf.
 */
final class SeedCodec {
    static final String MAGIC = "coffer-seed-1";
    static final int ITERATIONS = 600_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder D64 = Base64.getUrlDecoder();

    /** A decrypted seed. */
    static final class Opened {
        final UUID id;
        final String name;
        final String role;
        final Instant expires;
        final Properties payload;

        Opened(UUID id, String name, String role, Instant expires, Properties payload) {
            this.id = id;
            this.name = name;
            this.role = role;
            this.expires = expires;
            this.payload = payload;
        }
    }

    private SeedCodec() {
    }

    /** @return a one-time passphrase: 100 random bits as five groups of four base32 characters */
    static String passphrase() {
        String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            if (i > 0 && i % 4 == 0) {
                b.append('-');
            }
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    static String seal(UUID id, String name, String role, Instant expires, Properties payload, char[] passphrase)
            throws GeneralSecurityException, IOException {
        String header = MAGIC + ":" + id + ":" + name + ":" + role + ":" + expires.getEpochSecond();
        byte[] salt = new byte[16];
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(salt);
        RANDOM.nextBytes(nonce);
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        payload.store(plain, null);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, key(passphrase, salt), new GCMParameterSpec(128, nonce));
        c.updateAAD(header.getBytes(StandardCharsets.UTF_8));
        byte[] ct = c.doFinal(plain.toByteArray());
        return header + ":" + B64.encodeToString(salt) + ":" + B64.encodeToString(nonce) + ":" + B64.encodeToString(ct);
    }

    /**
     * @throws IllegalArgumentException when the text is no seed, or the passphrase (or any byte) is wrong
     */
    static Opened open(String text, char[] passphrase) {
        String[] p = header(text);
        try {
            String header = String.join(":", p[0], p[1], p[2], p[3], p[4]);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key(passphrase, D64.decode(p[5])), new GCMParameterSpec(128, D64.decode(p[6])));
            c.updateAAD(header.getBytes(StandardCharsets.UTF_8));
            Properties payload = new Properties();
            payload.load(new ByteArrayInputStream(c.doFinal(D64.decode(p[7]))));
            return new Opened(UUID.fromString(p[1]), p[2], p[3], Instant.ofEpochSecond(Long.parseLong(p[4])), payload);
        } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the seed does not open with this passphrase (wrong passphrase, or the "
                    + "seed was altered)");
        }
    }

    /** @return the readable header fields: magic, id, name, role, expiry, and the rest */
    static String[] header(String text) {
        String[] p = text == null ? new String[0] : text.trim().split(":");
        if (p.length != 8 || !p[0].equals(MAGIC)) {
            throw new IllegalArgumentException("not a Coffer enrolment seed");
        }
        return p;
    }

    private static SecretKeySpec key(char[] passphrase, byte[] salt) throws GeneralSecurityException {
        PBEKeySpec spec = new PBEKeySpec(passphrase, salt, ITERATIONS, 256);
        try {
            return new SecretKeySpec(SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec)
                    .getEncoded(), "AES");
        } finally {
            spec.clearPassword();
        }
    }
}
