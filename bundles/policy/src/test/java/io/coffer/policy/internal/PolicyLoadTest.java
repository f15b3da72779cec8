package io.coffer.policy.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.accounts.internal.CredentialIssuer;
import io.coffer.api.audit.AuditEvent;
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
        new AccountManager(db, keys, db.changeLog()).create("pc");
        loader = new PolicyLoader(new CredentialIssuer(keys), keys, db.changeLog());
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    private static PolicyLoader.Result load(String mode, String target, String yaml) throws SQLException {
        return load("myorg", mode, target, yaml).result();
    }

    /** A load's outcome and the audit events of the rows it changed, as the resource records them. */
    record Loaded(PolicyLoader.Result result, List<AuditEvent> events) {
    }

    /** Loads as the resource does (PUT = PATCH, then the rows no longer declared go) in one transaction. */
    private static Loaded load(String account, String mode, String target, String yaml) throws SQLException {
        String admin = account + ":user:admin";
        String policyId = account + ":policy:" + target;
        Resolved r = Resolver.resolve(new PolicyParser().parse(yaml, 1 << 20), account, target, admin);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                PolicyChanges.begin(c);
                PolicyLoader.Result res = loader.load(c, mode.equals("PUT") ? "PATCH" : mode, account, policyId, r,
                        admin, "10.1.2.3", yaml);
                if (mode.equals("PUT")) {
                    PolicyReplace.removeMissing(c, policyId, r);
                }
                List<AuditEvent> events = PolicyChanges.events(PolicyChanges.take(c), admin, policyId, res.version,
                        "req-1", "10.1.2.3");
                c.commit();
                return new Loaded(res, events);
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

    private static List<String> messages(List<AuditEvent> events) {
        return events.stream().map(AuditEvent::message).sorted().collect(Collectors.toList());
    }

    @Test
    public void everyChangedRowIsOneEventInConjursWords() throws Exception {
        String policy = String.join("\n",
                "- !user u1",
                "- !group g",
                "- !variable",
                "  id: v1",
                "  annotations: { description: first }",
                "- !grant { role: !group g, member: !user u1 }",
                "- !permit { role: !user u1, privilege: [ read ], resource: !variable v1 }", "");
        List<AuditEvent> added = load("pc", "POST", "root", policy).events();
        List<String> m = messages(added);
        String a = "pc:user:admin added ";
        assertTrue(m.toString(), m.containsAll(List.of(a + "role pc:user:u1", a + "role pc:group:g",
                a + "resource pc:user:u1", a + "resource pc:group:g", a + "resource pc:variable:v1",
                a + "ownership of pc:user:admin in pc:user:u1", a + "membership of pc:user:u1 in pc:group:g",
                a + "permission of pc:user:u1 to read on pc:variable:v1", a + "annotation description on pc:variable:v1")));
        AuditEvent permit = added.stream().filter(e -> e.message().contains("permission")).findFirst().orElseThrow();
        assertEquals(85, permit.priority());
        assertEquals("add", permit.operation());
        assertEquals("req-1", permit.requestId());
        assertEquals("10.1.2.3", permit.clientIp());
        assertEquals("{resource=pc:variable:v1, role=pc:user:u1, privilege=read}",
                permit.structuredData().get(AuditEvent.SUBJECT).toString());
        assertEquals("{id=pc:policy:root, version=1}", permit.structuredData().get(AuditEvent.POLICY).toString());
        assertEquals(List.of(AuditEvent.AUTH, AuditEvent.SUBJECT, AuditEvent.CLIENT, AuditEvent.ACTION,
                AuditEvent.POLICY), List.copyOf(permit.structuredData().keySet()));

        assertEquals("the same text again changes nothing", List.of(), load("pc", "POST", "root", policy).events());

        List<String> changed = messages(load("pc", "PATCH", "root", policy.replace("first", "second")).events());
        assertEquals(List.of("pc:user:admin changed annotation description on pc:variable:v1"), changed);

        // PUT without v1: the variable goes, and with it (cascades) its permission and annotation.
        List<String> removed = messages(load("pc", "PUT", "root", String.join("\n", "- !user u1",
                "- !group g", "- !grant { role: !group g, member: !user u1 }", "")).events());
        String r = "pc:user:admin removed ";
        assertTrue(removed.toString(), removed.containsAll(List.of(r + "resource pc:variable:v1",
                r + "permission of pc:user:u1 to read on pc:variable:v1", r + "annotation description on pc:variable:v1")));
        assertEquals(removed.toString(), 3, removed.size());
    }

    @Test
    public void outsideALoadTheTriggersRecordNothing() throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            c.createStatement().executeUpdate("INSERT INTO roles(role_id, account, kind, identifier) "
                    + "VALUES ('pc:group:quiet', 'pc', 'group', 'quiet')");
            // No temporary table in this session, and none needed: the triggers return before touching it.
            c.rollback();
        }
    }
}
