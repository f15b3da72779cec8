package io.coffer.accounts.credentials;

import static org.junit.Assert.assertEquals;

import java.sql.Connection;
import java.sql.Statement;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.api.rbac.Access;
import io.coffer.store.internal.DbPermissions;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.store.internal.TestDatabase;

/** Conjur's §4 semantics on a small graph: transitive membership, ownership, visibility. */
public class PermissionsTest {
    private static TestDatabase db;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        new AccountManager(db, TestKeys.keyring(db), db.changeLog()).create("a");
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            for (String r : new String[] {"user:alice", "user:bob", "group:ops", "group:devs", "host:app"}) {
                String[] p = r.split(":");
                st.execute("INSERT INTO roles VALUES ('a:" + r + "', 'a', '" + p[0] + "', '" + p[1] + "')");
                st.execute("INSERT INTO resources VALUES ('a:" + r + "', 'a', '" + p[0] + "', '" + p[1]
                        + "', 'a:user:admin')");
            }
            // alice ∈ devs ∈ ops; ops may update host:app; bob may only read it.
            st.execute("INSERT INTO role_memberships VALUES ('a:group:devs', 'a:user:alice', false, false)");
            st.execute("INSERT INTO role_memberships VALUES ('a:group:ops', 'a:group:devs', false, false)");
            st.execute("INSERT INTO permissions VALUES ('update', 'a:host:app', 'a:group:ops')");
            st.execute("INSERT INTO permissions VALUES ('read', 'a:host:app', 'a:user:bob')");
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    @Test
    public void transitiveGrantOwnershipAndVisibility() {
        DbPermissions perms = new DbPermissions(db, new io.coffer.api.store.Changes() {
            private final java.util.concurrent.atomic.AtomicLong g = new java.util.concurrent.atomic.AtomicLong();
            public long generation() { return g.incrementAndGet(); } // never cache: every check sees the database
            public void invalidate() { }
            public io.coffer.api.store.Position applied() { return null; }
        });
        assertEquals(Access.ALLOWED, perms.check("a:user:alice", "a:host:app", "update"));
        assertEquals(Access.VISIBLE, perms.check("a:user:alice", "a:host:app", "execute"));
        assertEquals(Access.VISIBLE, perms.check("a:user:bob", "a:host:app", "update"));
        assertEquals(Access.INVISIBLE, perms.check("a:user:bob", "a:group:ops", "update"));
        assertEquals("the owner holds every privilege", Access.ALLOWED,
                perms.check("a:user:admin", "a:host:app", "anything"));
        assertEquals(Access.INVISIBLE, perms.check("a:user:admin", "a:host:missing", "read"));
    }
}
