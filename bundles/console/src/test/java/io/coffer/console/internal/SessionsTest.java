package io.coffer.console.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;

public class SessionsTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Sessions sessions = new Sessions(now::get, 15 * 60_000L, 8 * 3600_000L, 2);

    private Map.Entry<String, Session> create() {
        return sessions.create("demo", "alice", "key".getBytes(), "token");
    }

    @Test
    public void idsAreRandom256BitValuesAndOnlyTheirDigestIsKept() {
        Map.Entry<String, Session> a = create();
        Map.Entry<String, Session> b = create();
        assertEquals(43, a.getKey().length());
        assertNotEquals(a.getKey(), b.getKey());
        assertNotEquals(a.getValue().csrf(), b.getValue().csrf());
        assertEquals(43, a.getValue().csrf().length());
        assertTrue(sessions.find(a.getKey()) == a.getValue());
        assertNull("an unknown id", sessions.find(sessions.randomToken()));
        assertNull("a malformed id", sessions.find("x"));
    }

    @Test
    public void anIdleSessionEnds() {
        Map.Entry<String, Session> s = create();
        now.addAndGet(14 * 60_000L);
        assertNotNull("used within the idle time", sessions.find(s.getKey()));
        now.addAndGet(14 * 60_000L);
        assertNotNull("each use restarts the idle time", sessions.find(s.getKey()));
        now.addAndGet(15 * 60_000L);
        assertNull(sessions.find(s.getKey()));
        assertNull("its credential is wiped", s.getValue().apiKey());
    }

    @Test
    public void aSessionEndsAtItsAbsoluteLifetimeHoweverUsed() {
        Map.Entry<String, Session> s = create();
        for (int i = 0; i < 8 * 6 - 1; i++) {
            now.addAndGet(10 * 60_000L);
            assertNotNull(sessions.find(s.getKey()));
        }
        now.addAndGet(10 * 60_000L);
        assertNull(sessions.find(s.getKey()));
    }

    @Test
    public void theCountIsBoundedAndExpiredSessionsMakeRoom() {
        create();
        create();
        try {
            create();
            fail("a third session past the bound of 2");
        } catch (Sessions.FullException expected) {
            assertEquals(2, sessions.size());
        }
        now.addAndGet(16 * 60_000L);
        assertNotNull(create());
        assertEquals(1, sessions.size());
    }

    @Test
    public void signOutDestroysTheSessionAndItsCredential() {
        Map.Entry<String, Session> s = create();
        sessions.destroy(s.getKey());
        assertNull(sessions.find(s.getKey()));
        assertNull(s.getValue().apiKey());
        assertNull(s.getValue().token());
    }

    @Test
    public void theCsrfTokenMustMatchExactly() {
        Session s = create().getValue();
        assertTrue(s.csrfMatches(s.csrf()));
        assertFalse(s.csrfMatches(null));
        assertFalse(s.csrfMatches(""));
        assertFalse(s.csrfMatches(s.csrf().substring(1)));
        assertFalse(s.csrfMatches(s.csrf() + "x"));
        assertEquals("demo:user:alice", s.roleId());
    }
}
