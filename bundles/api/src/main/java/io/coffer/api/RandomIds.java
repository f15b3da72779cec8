package io.coffer.api;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Random (version 4) UUIDs for request ids, audit event ids and write ids, from one DRBG per thread.
 * {@link UUID#randomUUID()} draws from a single process-wide SecureRandom whose lock every request thread queued on
 * (seen in thread dumps under load); ids stay unpredictable and unique across nodes, without the shared lock.
 */
public final class RandomIds {
    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(() -> {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    });

    private static final java.util.regex.Pattern REQUEST_ID = java.util.regex.Pattern.compile("[\\x21-\\x7e]{1,128}");

    private RandomIds() {
    }

    /**
     * A request id: the client's when it is at most 128 printable ASCII characters, otherwise a new UUID (a hostile
     * id must not reach logs or audit records as control characters).
     */
    public static String requestId(String offered) {
        return offered != null && REQUEST_ID.matcher(offered).matches() ? offered : uuid().toString();
    }

    /** @return a new random UUID */
    public static UUID uuid() {
        byte[] b = new byte[16];
        RANDOM.get().nextBytes(b);
        b[6] = (byte) ((b[6] & 0x0f) | 0x40); // version 4
        b[8] = (byte) ((b[8] & 0x3f) | 0x80); // IETF variant
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[i] & 0xff);
            lo = (lo << 8) | (b[i + 8] & 0xff);
        }
        return new UUID(hi, lo);
    }
}
