package io.coffer.policy.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.Test;

/** The policy language: conjur-api §3.1-§3.3 and the representative policies of §3.5. */
public class PolicyLanguageTest {
    static final String ROOT = String.join("\n",
            "- !user alice",
            "- !group ops",
            "- !grant { role: !group ops, member: !user alice }",
            "- !policy",
            "  id: prod",
            "  owner: !group ops",
            "  body:",
            "  - !policy",
            "    id: db",
            "    body:",
            "    - &secrets",
            "      - !variable password",
            "      - !variable { id: tls-cert, kind: certificate, mime_type: application/x-pem-file }",
            "    - !group consumers",
            "    - !permit",
            "      role: !group consumers",
            "      privileges: [ read, execute ]",
            "      resources: *secrets",
            "  - !layer app",
            "  - !host-factory { id: app, layers: [ !layer app ] }",
            "  - !grant { role: !group db/consumers, member: !layer app }",
            "");

    static Resolved load(String yaml, String target) {
        return Resolver.resolve(new PolicyParser().parse(yaml, 1 << 20), "myorg", target, "myorg:user:admin");
    }

    @Test
    public void rootPolicyOfTheSpec() {
        Resolved r = load(ROOT, "root");
        assertEquals(List.of("myorg:user:alice", "myorg:group:ops", "myorg:policy:prod", "myorg:policy:prod/db",
                "myorg:variable:prod/db/password", "myorg:variable:prod/db/tls-cert", "myorg:group:prod/db/consumers",
                "myorg:layer:prod/app", "myorg:host_factory:prod/app"), List.copyOf(r.records.keySet()));
        assertEquals("myorg:user:admin", r.records.get("myorg:user:alice").owner);
        assertEquals("myorg:group:ops", r.records.get("myorg:policy:prod").owner);
        assertEquals("myorg:policy:prod", r.records.get("myorg:policy:prod/db").owner);
        assertEquals("myorg:policy:prod/db", r.records.get("myorg:variable:prod/db/password").owner);
        assertEquals("certificate", r.records.get("myorg:variable:prod/db/tls-cert").annotations.get("conjur/kind"));
        assertEquals("application/x-pem-file",
                r.records.get("myorg:variable:prod/db/tls-cert").annotations.get("conjur/mime_type"));
        assertFalse("variables are resources only", r.records.get("myorg:variable:prod/db/password").role);
        assertEquals(List.of("myorg:layer:prod/app"), r.records.get("myorg:host_factory:prod/app").layers);
        assertEquals(4, r.permits.size());
        assertTrue(r.permits.stream().allMatch(p -> p.role.equals("myorg:group:prod/db/consumers")));
        assertEquals(List.of("myorg:group:ops<-myorg:user:alice", "myorg:group:prod/db/consumers<-myorg:layer:prod/app"),
                r.grants.stream().map(g -> g.role + "<-" + g.member).collect(Collectors.toList()));
        assertFalse(r.hasDeletions());
    }

    @Test
    public void delegatedPatchIntoANonRootPolicy() {
        Resolved r = load(String.join("\n",
                "- !host",
                "  id: batch-01",
                "  restricted_to: [ 10.0.0.0/8 ]",
                "  annotations: { description: nightly batch }",
                "- !grant { role: !group consumers, member: !host batch-01 }",
                "- !user bob",
                "- !permit { role: !user bob, privilege: [ read, execute, update ], resource: !variable password }",
                "- !delete { record: !variable tls-cert }", ""), "prod/db");
        Resolved.Record host = r.records.get("myorg:host:prod/db/batch-01");
        assertEquals("myorg:policy:prod/db", host.owner);
        assertEquals(List.of("10.0.0.0/8"), host.restrictedTo);
        assertEquals("nightly batch", host.annotations.get("description"));
        assertTrue("users in a non-root policy take the name@path form", r.records.containsKey("myorg:user:bob@prod-db"));
        assertEquals("myorg:user:bob@prod-db", r.permits.get(0).role);
        assertEquals("myorg:variable:prod/db/password", r.permits.get(0).resource);
        assertEquals(List.of("myorg:variable:prod/db/tls-cert"), r.deletes);
        assertTrue(r.hasDeletions());
    }

    @Test
    public void absoluteAndRelativeReferences() {
        Resolved r = load(String.join("\n",
                "- !policy",
                "  id: prod",
                "  body:",
                "  - !policy",
                "    id: db",
                "    owner: !group /ops",
                "    body:",
                "    - !layer",
                "    - !grant",
                "      role: !layer",
                "      member: !group ../frontend",
                "    - !permit { role: !user /alice, privilege: read, resource: !webservice svc }", ""), "root");
        assertEquals("myorg:group:ops", r.records.get("myorg:policy:prod/db").owner);
        assertTrue("a blank id in a policy is the policy itself", r.records.containsKey("myorg:layer:prod/db"));
        assertEquals("myorg:group:prod/frontend", r.grants.get(0).member);
        assertEquals("myorg:user:alice", r.permits.get(0).role);
        // '..' is resolved only where Conjur resolves it; elsewhere it stays literal (and the load finds nothing).
        Resolved literal = load("- !policy { id: app, body: [ !permit { role: !user /a, privilege: read, "
                + "resource: !variable ../v } ] }\n", "root");
        assertEquals("myorg:variable:app/../v", literal.permits.get(0).resource);
    }

    private static void rejects(String yaml, String message, int line) {
        try {
            load(yaml, "root");
            fail("accepted: " + yaml);
        } catch (PolicyException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
            if (line > 0) {
                assertEquals(e.getMessage(), line, e.line());
            }
            assertTrue(e.column() >= 0);
        }
    }

    @Test
    public void badPoliciesAreRejectedWithAPosition() {
        rejects("- !user alice\n- !foo bar\n", "Unrecognized data type '!foo'", 2);
        rejects("- !user { id: a, color: red }\n", "No such attribute 'color' on type User", 1);
        rejects("- !user alice\n- !user alice\n", "User 'alice' is declared more than once", 2);
        rejects("- !user /alice\n", "Illegal absolute id: /alice", 1);
        rejects("- !grant { role: !group /ops, member: !user a }\n", "Illegal absolute id", 1);
        rejects("- !user\n", "user has a blank id", 1);
        rejects("- !grant { role: !group g, member: !user ../../x }\n", "Invalid relative reference", 1);
        rejects("- !user alice\n  bad: [\n", "", 0);
        rejects("- !user a\n---\n- !user b\n", "single YAML document", 0);
        rejects("!user alice\n", "sequence of records", 1);
        rejects("- !!java.lang.Runtime {}\n", "tag", 1);
        rejects("- !grant { role: !group g, role: !group h, member: !user a }\n", "", 1);
        rejects("- !grant { role: !group g, roles: [ !group h ], member: !user a }\n", "Duplicate attribute: role", 1);
        rejects("- !grant { role: alice, member: !user a }\n", "Expected a Role or Resource for field 'role', got String", 1);
        rejects("- !host-factory { id: hf }\n", "needs at least one layer", 1);
        rejects("- !group { id: g, gidnumber: abc }\n", "Expected an integer", 1);
    }

    @Test
    public void aliasBombsAndHugeInputsAreRefused() {
        StringBuilder bomb = new StringBuilder("- &a [ !user x ]\n");
        char prev = 'a';
        for (char c = 'b'; c <= 'k'; c++) {
            bomb.append("- &").append(c).append(" [");
            for (int i = 0; i < 9; i++) {
                bomb.append(i == 0 ? "" : ",").append("*").append(prev);
            }
            bomb.append("]\n");
            prev = c;
        }
        rejects(bomb.toString(), "", 0);
        try {
            new PolicyParser().parse("- !user " + "x".repeat(5000) + "\n", 1000);
            fail("oversized policy parsed");
        } catch (PolicyException expected) {
            // fine
        }
    }

    @Test
    public void pluralAliasesAndEmptyPolicies() {
        Resolved r = load("- !permit { roles: [ !group a, !group b ], privileges: [ read ], resources: [ !variable v ] }\n",
                "root");
        assertEquals(2, r.permits.size());
        assertTrue(load("", "root").records.isEmpty());
        assertTrue(load("[]", "root").records.isEmpty());
    }
}
