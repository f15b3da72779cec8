package io.coffer.authn.internal;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed authentications per key (a role, a client address) in fixed windows. Past the limit, attempts are
 * refused with 429 before any credential is checked, so a burst of bad logins costs neither bcrypt time nor
 * database queries. Memory is bounded: when too many keys are tracked, finished windows are dropped.
 */
final class FailureThrottle {
    private static final int MAX_KEYS = 200_000;

    private static final class Window {
        final long start;
        int failures;

        Window(long start) {
            this.start = start;
        }
    }

    private final int limit;
    private final long windowMillis;
    private final Clock clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    FailureThrottle(int limit, long windowMillis, Clock clock) {
        this.limit = limit;
        this.windowMillis = windowMillis;
        this.clock = clock;
    }

    /** @return seconds until {@code key} may try again, or 0 when it may try now */
    long retryAfter(String key) {
        Window w = windows.get(key);
        long now = clock.millis();
        if (w == null || now - w.start >= windowMillis) {
            return 0;
        }
        synchronized (w) {
            return w.failures >= limit ? Math.max(1, (w.start + windowMillis - now + 999) / 1000) : 0;
        }
    }

    void failed(String key) {
        long now = clock.millis();
        if (windows.size() >= MAX_KEYS) {
            windows.values().removeIf(w -> now - w.start >= windowMillis);
        }
        Window w = windows.compute(key, (k, old) -> old == null || now - old.start >= windowMillis ? new Window(now) : old);
        synchronized (w) {
            w.failures++;
        }
    }

    void succeeded(String key) {
        windows.remove(key);
    }
}
