package io.coffer.api;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import org.junit.Test;

public class RandomIdsTest {
    @Test
    public void versionFourIetfVariantAndDistinct() {
        Set<UUID> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            UUID u = RandomIds.uuid();
            assertEquals(4, u.version());
            assertEquals(2, u.variant());
            assertTrue("repeated " + u, seen.add(u));
            // The text form round-trips, as audit records and change-log ids are stored and parsed as text.
            assertEquals(u, UUID.fromString(u.toString()));
        }
    }

    @Test
    public void threadsDrawDifferentIds() throws Exception {
        Set<UUID> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    seen.add(RandomIds.uuid());
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(20_000, seen.size());
    }

    @Test
    public void aPrintableRequestIdIsKeptAndAHostileOneReplaced() {
        assertEquals("req-42_ok", RandomIds.requestId("req-42_ok"));
        for (String hostile : new String[] {null, "", "two words", "line\nbreak", "x".repeat(129), "caf\u00e9"}) {
            String id = RandomIds.requestId(hostile);
            assertEquals(4, UUID.fromString(id).version());
        }
    }
}
