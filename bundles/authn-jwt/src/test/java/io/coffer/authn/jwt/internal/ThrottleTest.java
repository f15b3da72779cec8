package io.coffer.authn.jwt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** The leaky bucket: {@code limit} failures per window, then refusals until the bucket drains. */
public class ThrottleTest {

    @Test
    public void limitFailuresPassThenTheKeyWaitsForTheBucketToDrain() {
        JwksCacheTest.ManualClock clock = new JwksCacheTest.ManualClock();
        Throttle t = new Throttle(3, 60_000, clock);
        for (int i = 0; i < 3; i++) {
            assertEquals("failure " + i + " may still try", 0, t.retryAfter("10.0.0.1"));
            t.failed("10.0.0.1");
        }
        long wait = t.retryAfter("10.0.0.1");
        assertTrue("refused after the limit: " + wait, wait > 0 && wait <= 20);
        assertEquals("other keys are not affected", 0, t.retryAfter("10.0.0.2"));
        clock.millis += wait * 1000;
        assertEquals("one more attempt once a failure has drained", 0, t.retryAfter("10.0.0.1"));
        t.failed("10.0.0.1");
        assertTrue(t.retryAfter("10.0.0.1") > 0);
        clock.millis += 60_000;
        assertEquals("a full window drains the bucket", 0, t.retryAfter("10.0.0.1"));
        t.failed("10.0.0.1");
        t.failed("10.0.0.1");
        t.failed("10.0.0.1");
        t.succeeded("10.0.0.1");
        assertEquals("a success empties the bucket", 0, t.retryAfter("10.0.0.1"));
    }
}
