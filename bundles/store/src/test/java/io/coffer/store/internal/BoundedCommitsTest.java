package io.coffer.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import javax.sql.DataSource;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.store.OutcomeUnknownException;
import io.coffer.postgres.internal.TestPostgres;

/**
 * A synchronous Standby that never comes (named, absent) makes every commit wait, as on a Leader whose Standby is
 * gone: a write's answer must come back {@code outcome_unknown} within the bound, and the commit must still happen
 * once the wait is released, never be cancelled.
 */
public class BoundedCommitsTest {
    private static TestPostgres pg;
    private static BoundedCommits commits;
    private static DbChangeLog log;

    @BeforeClass
    public static void start() throws Exception {
        pg = new TestPostgres();
        SchemaMigrator m = new SchemaMigrator(pg.dataSource(), null);
        assertTrue(m.check().toMap().toString(), m.check().ok());
        commits = new BoundedCommits(pg.dataSource(), () -> 400);
        log = new DbChangeLog(null);
    }

    @AfterClass
    public static void stop() throws Exception {
        commits.close();
        pg.close();
    }

    private static void synchronousStandby(String names) throws Exception {
        try (Connection c = pg.superuser().getConnection(); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET synchronous_standby_names = '" + names + "'");
            st.execute("SELECT pg_reload_conf()");
        }
        Thread.sleep(300);
    }

    private static boolean committed(UUID id) throws Exception {
        try (Connection c = pg.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM change_log WHERE write_id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    @Test
    public void aWriteWaitingForAnAbsentStandbyIsAnsweredUnknownAndStillCommits() throws Exception {
        DataSource ds = commits.dataSource();
        synchronousStandby("FIRST 1 (standby_gone)");
        UUID id = null;
        long started = System.nanoTime();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                id = log.append(c, "demo", "test-write", "demo:variable:x");
                c.commit();
                fail("the commit can't complete without the synchronous Standby");
            } catch (SQLException e) {
                // What every writer does: roll back and rethrow. The rollback must not touch the waiting commit.
                c.rollback();
                OutcomeUnknownException unknown = OutcomeUnknownException.in(e);
                assertNotNull(e.toString(), unknown);
                assertEquals(id, unknown.writeId());
            }
        }
        long waitedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue("answered after the bound, not before: " + waitedMs, waitedMs >= 400);
        assertTrue("answered near the bound: " + waitedMs, waitedMs < 5_000);
        assertEquals(1, commits.waiting());
        assertTrue(commits.waiting(id));
        // PostgreSQL shows a commit to other transactions only once the Standby confirms it.
        assertFalse("not visible while it waits", committed(id));
        // Releasing the wait (here: no synchronous Standby any more) lets the same commit finish.
        synchronousStandby("");
        long deadline = System.currentTimeMillis() + 10_000;
        while (commits.waiting() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, commits.waiting());
        assertFalse(commits.waiting(id));
        assertTrue("the write answered outcome_unknown committed once released", committed(id));
    }

    @Test
    public void transactionsWithoutAWriteIdAndFastCommitsAreUntouched() throws Exception {
        synchronousStandby("");
        DataSource ds = commits.dataSource();
        UUID id;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            id = log.append(c, "demo", "test-write", null);
            c.commit();
        }
        assertTrue(committed(id));
        // A rolled-back write leaves nothing and no waiting commit.
        UUID gone;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            gone = log.append(c, "demo", "test-write", null);
            c.rollback();
            c.setAutoCommit(true);
        }
        assertFalse(committed(gone));
        assertEquals(0, commits.waiting());
    }
}
