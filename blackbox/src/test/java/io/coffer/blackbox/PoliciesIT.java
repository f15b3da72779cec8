package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.id;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.policy;
import static io.coffer.blackbox.Api.send;
import static io.coffer.blackbox.Api.setSecret;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.ClassRule;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** conjur-api §1.3 (policy routes), §3 (language, load modes), §3.5 (the three policies), §9.1, §9.5, §9.6. */
public class PoliciesIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();

    private static int status(String method, String policyId, String yaml, String auth) {
        return send(method, "/policies/" + ACCOUNT + "/policy/" + enc(policyId),
                yaml.getBytes(StandardCharsets.UTF_8), "Authorization", auth).status;
    }

    private static JsonNode resource(String kind, String identifier) {
        Api.Resp r = get("/resources/" + ACCOUNT + "/" + kind + "/" + enc(identifier), admin());
        return r.status == 200 ? r.json() : null;
    }

    @Test
    public void createdRolesListsOnlyNewUsersAndHostsAndVersionsCount() {
        String ns = Api.namespace("pol");
        JsonNode first = load("POST", "root", "- !policy\n  id: " + ns + "\n  body:\n  - !user u\n  - !host h\n"
                + "  - !group g\n");
        assertEquals(2, first.get("created_roles").size());
        apiKey(first, "user:u@" + ns);
        apiKey(first, "host:" + ns + "/h");
        assertEquals(id("user", "u@" + ns), first.at("/created_roles/" + ACCOUNT + ":user:u@" + ns + "/id").asText());
        JsonNode again = load("POST", ns, "- !user u\n- !host h2\n");
        assertEquals("existing users keep their key; only h2 is new", 1, again.get("created_roles").size());
        assertEquals(1, again.get("version").asInt());
        assertEquals(2, load("PATCH", ns, "- !variable v\n").get("version").asInt());
        assertTrue(load("POST", ns, "- !variable v\n").get("created_roles").isObject());
    }

    @Test
    public void dryRunPersistsNothing() {
        String ns = Api.namespace("dry");
        Api.Resp r = send("POST", "/policies/" + ACCOUNT + "/policy/root?dryRun=true",
                ("- !variable " + ns + "\n").getBytes(StandardCharsets.UTF_8), "Authorization", admin());
        assertEquals(r.toString(), 200, r.status);
        assertEquals("Valid YAML", r.json().get("status").asText());
        assertEquals(null, resource("variable", ns));
        Api.Resp bad = send("POST", "/policies/" + ACCOUNT + "/policy/root?dryRun=true",
                "- !variable\n  id: [oops\n".getBytes(StandardCharsets.UTF_8), "Authorization", admin());
        assertEquals(422, bad.status);
        assertEquals("Invalid YAML", bad.json().get("status").asText());
        assertTrue(bad.json().at("/errors/0/line").asInt() > 0);
    }

    @Test
    public void badPolicyIsA422WithAPositionNeverA500() {
        String[] bad = {
            "- !variable\n  id: [oops\n",                                  // syntax error
            "- !nope x\n",                                                 // unknown tag
            "- !variable { id: x, colour: red }\n",                        // unknown attribute
            "- !grant { role: !group missing-" + Api.namespace("g") + ", member: !user admin }\n", // missing role
            "- !variable dup\n- !variable dup\n",                           // duplicate record
            "- !variable /etc/absolute\n",                                 // illegal absolute id
            "- !variable !!java.io.File x\n",                              // a Java tag
            "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                + "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                + "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",                     // alias bomb
        };
        for (String yaml : bad) {
            Api.Resp r = policy("POST", "root", yaml);
            assertEquals(yaml, 422, r.status);
            assertEquals(yaml + " → " + r, "policy_invalid", r.code());
            assertFalse(r.message().isEmpty());
        }
        Api.Resp syntax = policy("POST", "root", "- !variable\n  id: [oops\n");
        assertTrue(syntax.toString(), syntax.json().at("/error/innererror/line").asInt() > 0);
        Api.Resp missing = policy("POST", "root", "- !permit { role: !user nobody-x1, privilege: read, resource: "
                + "!variable y }\n");
        assertTrue(missing.message(), missing.message().contains("not found in account '" + ACCOUNT + "'"));
    }

    @Test
    public void emptyBodiesDeletionsAndSizeAreValidated() {
        Api.Resp empty = policy("POST", "root", "  \n");
        assertEquals(422, empty.status);
        assertEquals("validation_failed", empty.code());
        assertEquals("policy_text", empty.json().at("/error/details/0/target").asText());
        Api.Resp deletion = policy("POST", "root", "- !delete { record: !variable x }\n");
        assertEquals(422, deletion.status);
        assertTrue(deletion.message(), deletion.message().contains("may not contain deletion statements"));
        byte[] huge = new byte[10 * 1024 * 1024 + 10];
        java.util.Arrays.fill(huge, (byte) '#');
        assertEquals(413, send("POST", "/policies/" + ACCOUNT + "/policy/root", huge, "Authorization", admin())
                .status);
        assertEquals(404, policy("POST", "no-such-policy-" + Api.namespace("p"), "- !variable x\n").status);
    }

    @Test
    public void loadModesFollowConjursTable() {
        String ns = Api.namespace("modes");
        load("POST", "root", "- !policy { id: " + ns + ", body: [] }\n");
        load("POST", ns, "- !variable { id: a, annotations: { note: one } }\n- !variable b\n");
        setSecret(ns + "/a", "kept across PUT");
        // POST never updates existing rows.
        load("POST", ns, "- !variable { id: a, annotations: { note: two } }\n");
        assertEquals("one", resource("variable", ns + "/a").at("/annotations/0/value").asText());
        // PATCH updates them and keeps rows missing from the text.
        load("PATCH", ns, "- !variable { id: a, annotations: { note: three } }\n");
        assertEquals("three", resource("variable", ns + "/a").at("/annotations/0/value").asText());
        assertTrue(resource("variable", ns + "/b") != null);
        // PUT deletes what the text no longer declares; a re-declared variable keeps its values.
        load("PUT", ns, "- !variable a\n");
        assertEquals(null, resource("variable", ns + "/b"));
        assertEquals("kept across PUT", get("/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/a"), admin()).text());
        // PATCH with !delete drops the variable and its values.
        load("PATCH", ns, "- !delete { record: !variable a }\n");
        assertEquals(null, resource("variable", ns + "/a"));
    }

    @Test
    public void shadowedRecordsOfAnotherPolicyAreNotTakenOver() {
        String ns = Api.namespace("shadow");
        load("POST", "root", "- !policy { id: " + ns + ", body: [] }\n");
        load("POST", ns, "- !variable owned\n");
        // Root (another policy than the one whose load stamped the row) declares the same id: no takeover.
        load("PATCH", "root", "- !variable { id: " + ns + "/owned, annotations: { taken: yes } }\n");
        JsonNode v = resource("variable", ns + "/owned");
        assertEquals(id("policy", ns), v.get("owner").asText());
    }

    @Test
    public void theThreeRepresentativePolicies() {
        String p = Api.namespace("rep");
        // (1) root-level, adapted into its own namespace so the suite can run twice on one node.
        JsonNode one = load("POST", "root", String.join("\n",
                "- !user alice-" + p,
                "- !group ops-" + p,
                "- !grant { role: !group ops-" + p + ", member: !user alice-" + p + " }",
                "- !policy",
                "  id: " + p,
                "  owner: !group ops-" + p,
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
                "  - !grant { role: !group db/consumers, member: !layer app }", ""));
        String alice = Api.token("alice-" + p, apiKey(one, "user:alice-" + p));
        assertEquals(id("group", "ops-" + p), resource("policy", p).get("owner").asText());
        assertEquals(id("policy", p + "/db"), resource("variable", p + "/db/password").get("owner").asText());
        assertEquals(id("layer", p + "/app"), resource("host_factory", p + "/app").at("/layers/0").asText());
        // (2) alice (through ops) owns prod and patches prod/db; ids are relative to it.
        Api.Resp two = send("PATCH", "/policies/" + ACCOUNT + "/policy/" + enc(p + "/db"), String.join("\n",
                "- !host",
                "  id: batch-01",
                "  restricted_to: [ 10.0.0.0/8 ]",
                "  annotations: { description: nightly batch }",
                "- !grant { role: !group consumers, member: !host batch-01 }",
                "- !user bob",
                "- !permit { role: !user bob, privilege: [ read, execute, update ], resource: !variable password }",
                "- !delete { record: !variable tls-cert }", "").getBytes(StandardCharsets.UTF_8),
                "Authorization", alice);
        assertEquals(two.toString(), 201, two.status);
        JsonNode created = two.json().get("created_roles");
        assertTrue(created.has(id("host", p + "/db/batch-01")));
        assertTrue("users in sub-policies are name@path-with-dashes", created.has(id("user", "bob@" + p + "-db")));
        assertEquals(null, resource("variable", p + "/db/tls-cert"));
        assertEquals("10.0.0.0/8", resource("host", p + "/db/batch-01").at("/restricted_to/0").asText());
        String bob = Api.token("bob@" + p + "-db", created.at("/" + ACCOUNT + ":user:bob@" + p + "-db/api_key")
                .asText());
        assertEquals(201, Api.post("/secrets/" + ACCOUNT + "/variable/" + enc(p + "/db/password"), bob, "pw").status);
        // (3) a JWT authenticator's policy loads (its webservice and variables).
        JsonNode three = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: conjur/authn-jwt/" + p,
                "  body:",
                "  - !webservice",
                "  - !variable jwks-uri",
                "  - !variable token-app-property",
                "  - !variable identity-path",
                "  - !variable issuer",
                "  - !group apps",
                "  - !permit { role: !group apps, privilege: [ read, authenticate ], resource: !webservice }",
                "- !policy { id: ci-" + p + ", body: [ !host { id: org/repo, annotations: { authn-jwt/" + p
                        + "/ref: refs/heads/main } } ] }",
                "- !grant { role: !group conjur/authn-jwt/" + p + "/apps, member: !host ci-" + p + "/org/repo }", ""));
        assertTrue(three.get("created_roles").has(id("host", "ci-" + p + "/org/repo")));
        assertTrue(resource("webservice", "conjur/authn-jwt/" + p) != null);
    }

    @Test
    public void putNeedsUpdateOnEveryDescendant() {
        String p = Api.namespace("put");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !user owner-" + p,
                "- !policy",
                "  id: " + p,
                "  body:",
                "  - !variable mine",
                "  - !variable { id: theirs, owner: !user /admin }",
                "- !permit { role: !user owner-" + p + ", privilege: [ read, update, create ], resource: !policy " + p
                        + " }",
                "- !permit { role: !user owner-" + p + ", privilege: [ read, update ], resource: !variable " + p
                        + "/mine }", ""));
        String owner = Api.token("owner-" + p, apiKey(loaded, "user:owner-" + p));
        assertEquals(201, status("PATCH", p, "- !variable extra\n", owner));
        assertEquals("PUT without update on " + p + "/theirs", 403, status("PUT", p, "- !variable mine\n", owner));
        assertEquals(201, status("PUT", p, "- !variable mine\n- !variable theirs\n- !variable extra\n", admin()));
    }

    @Test
    public void concurrentLoadsGet409WithRetryAfter() throws Exception {
        String ns = Api.namespace("conc");
        load("POST", "root", "- !policy { id: " + ns + ", body: [] }\n");
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            big.append("- !variable v").append(i).append('\n');
        }
        Api.Resp conflict = null;
        for (int attempt = 0; attempt < 5 && conflict == null; attempt++) {
            String text = big.toString().replace("- !variable v", "- !variable a" + attempt + "-");
            java.util.concurrent.CompletableFuture<Api.Resp> slow = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> policy("POST", ns, text));
            for (int i = 0; i < 100 && !slow.isDone() && conflict == null; i++) {
                Api.Resp r = policy("POST", ns, "- !variable probe\n");
                if (r.status == 409) {
                    conflict = r;
                }
            }
            // Whichever load took the lock first wins; the other is refused, never queued or merged.
            Api.Resp first = slow.get();
            if (first.status == 409) {
                conflict = first;
            } else {
                assertEquals(201, first.status);
            }
        }
        assertTrue("a load overlapping a long one was refused", conflict != null);
        assertEquals("policy_conflict", conflict.code());
        assertEquals("Concurrent policy load in progress, please retry", conflict.message());
        int retry = Integer.parseInt(conflict.header("Retry-After"));
        assertTrue(retry >= 1 && retry <= 8);
    }

    @Test
    public void policyVersionsAreShownOnThePolicyResource() {
        String ns = Api.namespace("ver");
        load("POST", "root", "- !policy { id: " + ns + ", body: [] }\n");
        String text = "- !variable one\n";
        load("POST", ns, text);
        JsonNode versions = resource("policy", ns).get("policy_versions");
        assertEquals(1, versions.size());
        assertEquals(text, versions.get(0).get("policy_text").asText());
        assertEquals(id("user", "admin"), versions.get(0).get("role").asText());
        assertEquals(64, versions.get(0).get("policy_sha256").asText().length());
    }
}
