package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.id;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.q;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.ClassRule;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Issue 7 item 2 (Conjur's audit read API: /audit, /audit/resources|roles|entities/{id}) and item 4 (one policy
 * event per changed row), read back through the API.
 */
public class AuditIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    private static String ns;
    private static String reader;
    private static String looker;
    private static String stranger;

    @BeforeClass
    public static void policy() {
        ns = Api.namespace("audit");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !user reader",
                "  - !user looker",
                "  - !user stranger",
                "  - !variable v",
                "  - !permit { role: !user reader, privileges: [ read, execute ], resource: !variable v }",
                "  - !permit { role: !user looker, privilege: execute, resource: !variable v }",
                "  - !permit { role: !user reader, privilege: read, resource: !user looker }", ""));
        reader = Api.token("reader@" + ns, apiKey(loaded, "user:reader@" + ns));
        looker = Api.token("looker@" + ns, apiKey(loaded, "user:looker@" + ns));
        stranger = Api.token("stranger@" + ns, apiKey(loaded, "user:stranger@" + ns));
        Api.setSecret(ns + "/v", "audited");
        assertEquals(200, get("/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/v"), reader).status);
    }

    /** The events of one request, as the admin reads them; waits (bounded) for the table to have them. */
    static JsonNode events(String requestId, int atLeast) {
        long deadline = System.currentTimeMillis() + 15_000;
        Api.Resp r;
        do {
            r = get("/audit?procid=" + q(requestId), admin());
            if (r.status == 200 && r.json().size() >= atLeast) {
                return r.json();
            }
            sleep();
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no " + atLeast + " audit events for request " + requestId + ": " + r);
    }

    static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static List<String> messages(JsonNode events) {
        List<String> out = new ArrayList<>();
        events.forEach(e -> out.add(e.path("message").asText()));
        return out;
    }

    @Test
    public void theTrailNeedsAToken() {
        assertEquals(401, get("/audit", null).status);
    }

    @Test
    public void aRequestsEventIsReadBackInConjursShape() {
        String rid = "audit-" + UUID.randomUUID();
        assertEquals(200, get("/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/v"), admin(), "X-Request-Id", rid)
                .status);
        JsonNode e = events(rid, 1).get(0);
        assertEquals("fetch", e.path("msgid").asText());
        assertEquals(rid, e.path("procid").asText());
        assertEquals(10, e.path("facility").asInt());
        assertEquals(6, e.path("severity").asInt());
        assertEquals("conjur", e.path("appname").asText());
        assertTrue(e.toString(), e.path("timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
        assertEquals(id("variable", ns + "/v"), e.path("sdata").path("subject@43868").path("resource").asText());
        assertEquals(id("user", "admin"), e.path("sdata").path("auth@43868").path("user").asText());
        assertEquals("success", e.path("sdata").path("action@43868").path("result").asText());
        assertTrue(e.toString(), e.path("seq").asLong() > 0);
    }

    @Test
    public void aPolicyLoadIsOneEventPerChangedRow() {
        String rid = "audit-" + UUID.randomUUID();
        String yaml = String.join("\n", "- !variable a", "- !variable b",
                "- !permit { role: !user reader, privilege: read, resource: !variable a }", "");
        Api.Resp r = Api.send("POST", "/policies/" + ACCOUNT + "/policy/" + enc(ns), yaml.getBytes(
                StandardCharsets.UTF_8), "Authorization", admin(), "X-Request-Id", rid);
        assertEquals(r.toString(), 201, r.status);
        JsonNode events = events(rid, 3);
        String admin = id("user", "admin");
        String a = id("variable", ns + "/a");
        List<String> m = messages(events);
        assertEquals(m.toString(), 3, events.size());
        assertTrue(m.toString(), m.containsAll(List.of(admin + " added resource " + a,
                admin + " added resource " + id("variable", ns + "/b"),
                admin + " added permission of " + id("user", "reader@" + ns) + " to read on " + a)));
        for (JsonNode e : events) {
            assertEquals("policy", e.path("msgid").asText());
            assertEquals(5, e.path("severity").asInt());
            assertEquals("add", e.path("sdata").path("action@43868").path("operation").asText());
            assertEquals(id("policy", ns), e.path("sdata").path("policy@43868").path("id").asText());
            assertEquals(r.json().path("version").asText(), e.path("sdata").path("policy@43868").path("version")
                    .asText());
        }
        // Loading the same text again changes no row: no event.
        String again = "audit-" + UUID.randomUUID();
        assertEquals(201, Api.send("POST", "/policies/" + ACCOUNT + "/policy/" + enc(ns), yaml.getBytes(
                StandardCharsets.UTF_8), "Authorization", admin(), "X-Request-Id", again).status);
        sleep();
        assertEquals(404, get("/audit?procid=" + q(again), admin()).status);
        // A failed load is one failure event.
        String failed = "audit-" + UUID.randomUUID();
        assertEquals(422, Api.send("POST", "/policies/" + ACCOUNT + "/policy/" + enc(ns), ("- !grant { role: !group "
                + "nope, member: !user reader }\n").getBytes(StandardCharsets.UTF_8), "Authorization", admin(),
                "X-Request-Id", failed).status);
        JsonNode f = events(failed, 1);
        assertEquals(1, f.size());
        assertEquals("failure", f.get(0).path("sdata").path("action@43868").path("result").asText());
        assertTrue(f.toString(), f.get(0).path("message").asText().startsWith("Failed to load policy: "));
    }

    @Test
    public void aResourcesTrailNeedsReadOnIt() {
        String v = "/audit/resources/" + enc(id("variable", ns + "/v"));
        Api.Resp ok = get(v, reader);
        assertEquals(ok.toString(), 200, ok.status);
        ok.json().forEach(e -> assertTrue(e.toString(), e.toString().contains(id("variable", ns + "/v"))));
        Api.Resp seenOnly = get(v, looker);
        assertEquals(seenOnly.toString(), 403, seenOnly.status);
        assertEquals("forbidden", seenOnly.code());
        Api.Resp invisible = get(v, stranger);
        assertEquals(invisible.toString(), 404, invisible.status);
        assertEquals("not_found", invisible.code());
        Api.Resp whole = get("/audit", reader);
        assertEquals(whole.toString(), 403, whole.status);
        assertEquals("forbidden", whole.code());
    }

    @Test
    public void aRoleReadsItsOwnTrailAndWhatItMayRead() {
        String self = "/audit/roles/" + enc(id("user", "reader@" + ns));
        Api.Resp own = get(self, reader);
        assertEquals(own.toString(), 200, own.status);
        assertTrue(own.toString(), messages(own.json()).stream().anyMatch(m -> m.contains("successfully authenticated")));
        assertEquals(404, get(self, stranger).status);
        Api.Resp lookers = get("/audit/roles/" + enc(id("user", "looker@" + ns)), reader);
        assertEquals(lookers.toString(), 200, lookers.status);
        assertEquals(200, get("/audit/entities/" + enc(id("variable", ns + "/v")), reader).status);
        assertEquals(403, get("/audit/entities/" + enc(id("variable", ns + "/v")), looker).status);
    }

    @Test
    public void badInputIsA422NamingIt() {
        String[][] bad = {{"limit=0", "limit"}, {"limit=1001", "limit"}, {"since=yesterday", "since"},
            {"outcome=ok", "outcome"}, {"offset=-1", "offset"}, {"colour=red", "colour"}, {"resource=x", "resource"}};
        for (String[] b : bad) {
            Api.Resp r = get("/audit?" + b[0], admin());
            assertEquals(b[0] + ": " + r, 422, r.status);
            assertEquals(b[0], "argument_error", r.code());
            assertTrue(r.message(), r.message().contains("'" + b[1] + "'"));
        }
        Api.Resp notFull = get("/audit/resources/" + enc(ns + "/v"), reader);
        assertEquals(notFull.toString(), 422, notFull.status);
        assertEquals("argument_error", notFull.code());
    }

    @Test
    public void noMatchIs404WithAnEmptyListAsConjurAnswers() {
        Api.Resp r = get("/audit?procid=" + q("none-" + UUID.randomUUID()), admin());
        assertEquals(404, r.status);
        assertEquals("[]", r.text());
    }

    @Test
    public void pagingWalksNewestFirst() {
        String rid = "audit-" + UUID.randomUUID();
        String yaml = "- !variable p1\n- !variable p2\n- !variable p3\n";
        assertEquals(201, Api.send("POST", "/policies/" + ACCOUNT + "/policy/" + enc(ns), yaml.getBytes(
                StandardCharsets.UTF_8), "Authorization", admin(), "X-Request-Id", rid).status);
        JsonNode all = events(rid, 3);
        JsonNode page = get("/audit?procid=" + q(rid) + "&limit=1&offset=1", admin()).json();
        assertEquals(1, page.size());
        assertEquals(all.get(1).path("id").asText(), page.get(0).path("id").asText());
        assertTrue(all.get(0).path("timestamp").asText().compareTo(all.get(2).path("timestamp").asText()) >= 0);
        assertEquals(2, get("/audit?procid=" + q(rid) + "&limit=2", admin()).json().size());
    }
}
