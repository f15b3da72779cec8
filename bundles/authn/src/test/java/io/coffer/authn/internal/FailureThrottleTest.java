package io.coffer.authn.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;

public class FailureThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Clock clock = new Clock() {
        public ZoneOffset getZone() { return ZoneOffset.UTC; }
        public Clock withZone(java.time.ZoneId z) { return this; }
        public Instant instant() { return Instant.ofEpochMilli(now.get()); }
    };

    @Test
    public void limitsFailuresPerKeyForOneWindow() {
        FailureThrottle t = new FailureThrottle(3, 60_000, clock);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, t.retryAfter("role:a"));
            t.failed("role:a");
        }
        assertEquals(60, t.retryAfter("role:a"));
        assertEquals("other keys are unaffected", 0, t.retryAfter("role:b"));
        now.addAndGet(30_500);
        assertEquals(30, t.retryAfter("role:a"));
        now.addAndGet(30_000);
        assertEquals("a new window", 0, t.retryAfter("role:a"));
    }

    @Test
    public void successClearsTheKey() {
        FailureThrottle t = new FailureThrottle(2, 60_000, clock);
        t.failed("ip:1");
        t.succeeded("ip:1");
        t.failed("ip:1");
        assertEquals(0, t.retryAfter("ip:1"));
        t.failed("ip:1");
        assertTrue(t.retryAfter("ip:1") > 0);
    }
}
