package io.coffer.authn.jwt.internal;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Failed JWT authentications per key (a client address, a role), as leaky buckets: each failure adds one, the
 * bucket drains {@code limit} per window, and a full bucket refuses the key (429) before any token is parsed or any
 * key fetched. A success empties the key's bucket. Memory is bounded: past the key limit, drained buckets go.
 */
final class Throttle {
    private static final int MAX_KEYS = 200_000;

    private final double limit;
    private final double drainPerMilli;
    private final Clock clock;
    /** key → {level, millis of the last update}; each array is updated under its own monitor. */
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>();

    Throttle(int limit, long windowMillis, Clock clock) {
        this.limit = Math.max(1, limit);
        this.drainPerMilli = this.limit / Math.max(1, windowMillis);
        this.clock = clock;
    }

    private double drained(double[] b, long now) {
        b[0] = Math.max(0, b[0] - (now - (long) b[1]) * drainPerMilli);
        b[1] = now;
        return b[0];
    }

    /** @return seconds until {@code key} may try again; 0 when it may try now */
    long retryAfter(String key) {
        double[] b = buckets.get(key);
        if (b == null) {
            return 0;
        }
        synchronized (b) {
            // Refused while one more failure would overflow the bucket; the wait is until it would not.
            double excess = drained(b, clock.millis()) - (limit - 1);
            return excess <= 0 ? 0 : Math.max(1, (long) Math.ceil(excess / drainPerMilli / 1000.0));
        }
    }

    void failed(String key) {
        long now = clock.millis();
        if (buckets.size() >= MAX_KEYS) {
            buckets.entrySet().removeIf(e -> {
                synchronized (e.getValue()) {
                    return drained(e.getValue(), now) == 0;
                }
            });
        }
        double[] b = buckets.computeIfAbsent(key, k -> new double[] {0, now});
        synchronized (b) {
            b[0] = drained(b, now) + 1;
        }
    }

    void succeeded(String key) {
        buckets.remove(key);
    }
}
