package io.coffer.policy.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.accounts.internal.CredentialIssuer;
import io.coffer.api.rbac.Access;
import io.coffer.crypto.internal.Keyring;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.store.internal.DbPermissions;
import io.coffer.store.internal.TestDatabase;

/** Loads the spec's policies into a real PostgreSQL in each mode and checks rows, keys, versions and errors. */
public class PolicyLoadTest {
    private static TestDatabase db;
    private static PolicyLoader loader;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        Keyring keys = TestKeys.keyring(db);
        new AccountManager(db, keys, db.changeLog()).create("myorg");
        loader = new PolicyLoader(new CredentialIssuer(keys), keys, db.changeLog());
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    private static PolicyLoader.Result load(String mode, String target, String yaml) throws SQLException {
        Resolved r = Resolver.resolve(new PolicyParser().parse(yaml, 1 << 20), "myorg", target, "myorg:user:admin");
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                PolicyLoader.Result res = loader.load(c, mode, "myorg", "myorg:policy:" + target, r, "myorg:user:admin",
                        "127.0.0.1", yaml);
                if (mode.equals("PUT")) {
                    PolicyReplace.removeMissing(c, "myorg:policy:" + target, r);
                }
                c.commit();
                return res;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static int count(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    public void theSpecsPoliciesLoadInOrder() throws Exception {
        PolicyLoader.Result first = load("POST", "root", PolicyLanguageTest.ROOT);
        assertEquals(1, first.version);
        assertEquals(java.util.Set.of("myorg:user:alice"), first.createdRoles.keySet());
        assertTrue(first.createdRoles.get("myorg:user:alice").matches("[0-9a-hjkmnp-tv-z]{40,56}"));
        DbPermissions perms = new DbPermissions(db, new io.coffer.api.store.Changes() {
            private final java.util.concurrent.atomic.AtomicLong g = new java.util.concurrent.atomic.AtomicLong();
            public long generation() { return g.incrementAndGet(); } // never cache: every check sees the database
            public void invalidate() { }
            public io.coffer.api.store.Position applied() { return null; }
        });
        assertEquals("alice is in ops, which owns prod, which owns prod/db",
                Access.ALLOWED, perms.check("myorg:user:alice", "myorg:policy:prod/db", "update"));
        assertEquals(Access.ALLOWED, perms.check("myorg:layer:prod/app", "myorg:variable:prod/db/password", "execute"));
        assertEquals(Access.INVISIBLE, perms.check("myorg:layer:prod/app", "myorg:group:ops", "read"));
        assertEquals("application/x-pem-file", string("SELECT value FROM annotations WHERE resource_id = "
                + "'myorg:variable:prod/db/tls-cert' AND name = 'conjur/mime_type'"));

        PolicyLoader.Result again = load("POST", "root", PolicyLanguageTest.ROOT);
        assertEquals(2, again.version);
        assertTrue("existing users keep their keys", again.createdRoles.isEmpty());

        PolicyLoader.Result patch = load("PATCH", "prod/db", String.join("\n",
                "- !host",
                "  id: batch-01",
                "  restricted_to: [ 10.0.0.0/8 ]",
                "  annotations: { description: nightly batch }",
                "- !grant { role: !group consumers, member: !host batch-01 }",
                "- !user bob",
                "- !permit { role: !user bob, privilege: [ read, execute, update ], resource: !variable password }",
                "- !delete { record: !variable tls-cert }", ""));
        assertEquals(java.util.Set.of("myorg:host:prod/db/batch-01", "myorg:user:bob@prod-db"),
                patch.createdRoles.keySet());
        assertEquals(0, count("SELECT count(*) FROM resources WHERE resource_id = 'myorg:variable:prod/db/tls-cert'"));
        assertEquals("{10.0.0.0/8}", string("SELECT restricted_to::text FROM credentials WHERE role_id = "
                + "'myorg:host:prod/db/batch-01'"));
        assertEquals(Access.ALLOWED, perms.check("myorg:host:prod/db/batch-01", "myorg:variable:prod/db/password",
                "execute"));

        // PUT root with alice and ops only: what the root policy declared and no longer does is gone.
        load("PUT", "root", "- !user alice\n- !group ops\n");
        assertEquals(0, count("SELECT count(*) FROM resources WHERE resource_id LIKE 'myorg:%:prod%'"));
        assertEquals(1, count("SELECT count(*) FROM resources WHERE resource_id = 'myorg:user:alice'"));
        assertEquals("the grant was not re-declared", 0, count("SELECT count(*) FROM role_memberships "
                + "WHERE role_id = 'myorg:group:ops' AND member_id = 'myorg:user:alice'"));
        assertEquals("alice kept her key", 1, count("SELECT count(*) FROM credentials WHERE role_id = 'myorg:user:alice'"));
        assertEquals("root: POST, POST, PUT (the PATCH was prod/db's)", 3,
                count("SELECT max(version) FROM policy_versions WHERE resource_id = 'myorg:policy:root'"));
    }

    @Test
    public void unknownReferencesAre422WithTheirPosition() throws Exception {
        try {
            load("POST", "root", "- !user carol\n- !grant { role: !group nope, member: !user carol }\n");
            fail("loaded a grant of a missing group");
        } catch (PolicyException e) {
            assertEquals("Group 'nope' not found in account 'myorg'", e.getMessage());
            assertEquals(2, e.line());
        }
        assertEquals("the failed load wrote nothing", 0,
                count("SELECT count(*) FROM roles WHERE role_id = 'myorg:user:carol'"));
        assertFalse(Resolver.resolve(new PolicyParser().parse("- !delete { record: !user x }\n", 100), "myorg", "root",
                "myorg:user:admin").deletes.isEmpty());
    }

    private static String string(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
