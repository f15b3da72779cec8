package io.coffer.accounts.internal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * Conjur's API-key format: 32 random bytes read as 8 big-endian uint32, each in Crockford base32 without padding or
 * leading zeros, concatenated, lower case (47-56 characters). Clients and tooling recognise keys by this shape.
 */
final class ApiKeys {
    private static final char[] CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {
    }

    static String generate() {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        ByteBuffer buf = ByteBuffer.wrap(raw);
        StringBuilder out = new StringBuilder(56);
        for (int i = 0; i < 8; i++) {
            out.append(base32(buf.getInt() & 0xffffffffL));
        }
        java.util.Arrays.fill(raw, (byte) 0);
        return out.toString();
    }

    static String base32(long v) {
        if (v == 0) {
            return "0";
        }
        StringBuilder s = new StringBuilder(7);
        while (v > 0) {
            s.append(CROCKFORD[(int) (v & 31)]);
            v >>>= 5;
        }
        return s.reverse().toString();
    }
}
