package io.coffer.accounts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.Test;

public class ApiKeysTest {
    @Test
    public void crockfordWithoutLeadingZeros() {
        assertEquals("0", ApiKeys.base32(0));
        assertEquals("z", ApiKeys.base32(31));
        assertEquals("10", ApiKeys.base32(32));
        assertEquals("3zzzzzz", ApiKeys.base32(0xffffffffL));
    }

    @Test
    public void keysHaveConjursShapeAndDontRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            String k = ApiKeys.generate();
            assertTrue(k, k.matches("[0-9a-hjkmnp-tv-z]{8,56}"));
            assertTrue(k, k.length() <= 56);
            assertTrue("duplicate key", seen.add(k));
        }
        // 8 values of up to 7 chars: almost always 47+ (Conjur's observed range)
        assertTrue(seen.stream().filter(k -> k.length() >= 47).count() > 1990);
    }
}
