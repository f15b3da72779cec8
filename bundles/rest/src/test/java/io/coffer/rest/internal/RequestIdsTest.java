package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class RequestIdsTest {
    @Test
    public void keepsShortPrintableIdsAndReplacesTheRest() {
        assertEquals("abc-123_X.y", RequestIds.accept("abc-123_X.y"));
        String max = "a".repeat(128);
        assertEquals(max, RequestIds.accept(max));
        for (String hostile : new String[] {null, "", "a".repeat(129), "has space", "new\nline", "tab\t",
                "é", "\u0000"}) {
            String id = RequestIds.accept(hostile);
            assertNotEquals(hostile, id);
            assertTrue(id, id.matches("[0-9a-f-]{36}"));
        }
    }
}
