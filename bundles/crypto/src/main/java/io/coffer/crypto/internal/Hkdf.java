package io.coffer.crypto.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/** HKDF-SHA256 (RFC 5869) with the JDK's HMAC: one extract, as many expand blocks as the length needs. */
final class Hkdf {
    /** A fixed salt: the root key is already uniformly random, the salt only separates Coffer's uses. */
    static final byte[] SALT = "coffer-hkdf-v1".getBytes(StandardCharsets.US_ASCII);

    private Hkdf() {
    }

    static byte[] derive(byte[] salt, byte[] ikm, byte[] info, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(salt.length == 0 ? new byte[32] : salt, "HmacSHA256"));
            byte[] prk = mac.doFinal(ikm);
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            Arrays.fill(prk, (byte) 0);
            byte[] out = new byte[length];
            byte[] t = new byte[0];
            for (int i = 1, off = 0; off < length; i++) {
                mac.update(t);
                mac.update(info);
                mac.update((byte) i);
                t = mac.doFinal();
                System.arraycopy(t, 0, out, off, Math.min(t.length, length - off));
                off += t.length;
            }
            Arrays.fill(t, (byte) 0);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** A 256-bit key for {@code purpose} from a root key. */
    static byte[] derive(SecretKey root, String purpose) {
        byte[] ikm = root.getEncoded();
        try {
            return derive(SALT, ikm, purpose.getBytes(StandardCharsets.UTF_8), 32);
        } finally {
            Arrays.fill(ikm, (byte) 0);
        }
    }
}
