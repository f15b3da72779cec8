package io.coffer.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.sql.Connection;
import java.sql.Statement;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.rbac.Access;

/** The generation moves with the WAL, and cached permission answers follow it. */
public class ChangeWatcherTest {
    private static TestDatabase db;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    /** Every data change commits with a change-log row (architecture §8). */
    private static final String CHANGE = "INSERT INTO change_log(write_id, account, kind) VALUES (gen_random_uuid(), "
            + "'a', 'test')";

    private static void sql(String... statements) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    @Test
    public void cachedAnswersFollowCommittedChanges() throws Exception {
        ChangeWatcher w = new ChangeWatcher(db);
        try {
            // Right after start the database still writes WAL (checkpoints, hint bits); once it settles, an idle
            // database keeps its generation.
            long g0 = -1;
            boolean settled = false;
            for (long deadline = System.nanoTime() + 10_000_000_000L; !settled && System.nanoTime() < deadline;) {
                g0 = w.generation();
                Thread.sleep(300);
                settled = w.generation() == g0;
            }
            assertTrue("an idle database keeps its generation", settled);
            // WAL written without a change-log row (the Leader's heartbeat) is no data change.
            sql("INSERT INTO heartbeat VALUES (1, 'n1', now())");
            w.poll();
            assertEquals("a heartbeat keeps the generation", g0, w.generation());
            assertTrue("... but the applied position moves", w.applied() != null && w.applied().lsn() > 0);
            sql("BEGIN", "INSERT INTO accounts(id) VALUES ('a')",
                    "INSERT INTO roles VALUES ('a:user:u', 'a', 'user', 'u')",
                    "INSERT INTO roles VALUES ('a:user:admin', 'a', 'user', 'admin')",
                    "INSERT INTO resources VALUES ('a:variable:v', 'a', 'variable', 'v', 'a:user:admin')",
                    CHANGE, "COMMIT");
            w.poll();
            assertNotEquals("a commit moves the generation", g0, w.generation());

            DbPermissions perms = new DbPermissions(db, w);
            assertEquals(Access.INVISIBLE, perms.check("a:user:u", "a:variable:v", "execute"));
            sql("BEGIN", "INSERT INTO permissions VALUES ('execute', 'a:variable:v', 'a:user:u')", CHANGE, "COMMIT");
            w.poll();
            assertEquals("the grant is seen once the WAL moved", Access.ALLOWED,
                    perms.check("a:user:u", "a:variable:v", "execute"));
            long g1 = w.generation();
            w.invalidate();
            assertTrue(w.generation() > g1);
        } finally {
            w.deactivate();
        }
    }
}
