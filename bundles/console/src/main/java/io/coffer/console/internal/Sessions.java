package io.coffer.console.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The console's sessions: random 256-bit ids, an idle timeout, an absolute lifetime, and a bound on how many exist.
 * The map is keyed by the SHA-256 of the id, so it never holds the cookie's value and a lookup compares digests,
 * not the secret itself.
 */
final class Sessions {
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Session> byDigest = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private volatile long idleMillis;
    private volatile long lifetimeMillis;
    private volatile int max;

    Sessions(LongSupplier clock, long idleMillis, long lifetimeMillis, int max) {
        this.clock = clock;
        configure(idleMillis, lifetimeMillis, max);
    }

    void configure(long idle, long lifetime, int maxSessions) {
        this.idleMillis = idle;
        this.lifetimeMillis = lifetime;
        this.max = maxSessions;
    }

    /** Thrown when the bound is reached even after expired sessions were dropped. */
    static final class FullException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FullException() {
            super("too many console sessions on this node; try again later");
        }
    }

    /**
     * @return the new session's id (the cookie value) and the session
     * @throws FullException when {@code max} live sessions exist
     */
    synchronized Map.Entry<String, Session> create(String account, String login, byte[] apiKey, String token) {
        long now = clock.getAsLong();
        if (byDigest.size() >= max) {
            purge(now);
            if (byDigest.size() >= max) {
                throw new FullException();
            }
        }
        String id = randomToken();
        Session s = new Session(account, login, apiKey, token, randomToken(), now);
        byDigest.put(digest(id), s);
        return Map.entry(id, s);
    }

    /** @return the live session for a cookie value, touched; {@code null} when unknown, idle too long or too old */
    Session find(String id) {
        if (id == null || id.length() != 43) {
            return null;
        }
        String key = digest(id);
        Session s = byDigest.get(key);
        if (s == null) {
            return null;
        }
        long now = clock.getAsLong();
        if (expired(s, now)) {
            if (byDigest.remove(key, s)) {
                s.destroy();
            }
            return null;
        }
        s.touch(now);
        return s;
    }

    void destroy(String id) {
        if (id != null) {
            Session s = byDigest.remove(digest(id));
            if (s != null) {
                s.destroy();
            }
        }
    }

    void destroyAll() {
        byDigest.values().forEach(Session::destroy);
        byDigest.clear();
    }

    int size() {
        return byDigest.size();
    }

    private boolean expired(Session s, long now) {
        return now - s.lastUsedMillis() >= idleMillis || now - s.createdMillis >= lifetimeMillis;
    }

    private void purge(long now) {
        byDigest.entrySet().removeIf(e -> {
            if (expired(e.getValue(), now)) {
                e.getValue().destroy();
                return true;
            }
            return false;
        });
    }

    /** 256 random bits, URL-safe base64 without padding (43 characters). */
    String randomToken() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String digest(String id) {
        try {
            return Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
