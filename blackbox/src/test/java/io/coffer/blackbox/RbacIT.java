package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.id;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.q;
import static io.coffer.blackbox.Api.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.ClassRule;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** conjur-api §1.4 (resources), §1.5 (roles) and §4 (RBAC semantics). */
public class RbacIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    private static String ns;
    private static String alice;
    private static String carol;

    @BeforeClass
    public static void policy() {
        ns = Api.namespace("rbac");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !user alice",
                "  - !user carol",
                "  - !group devs",
                "  - !group leads",
                "  - !grant { role: !group devs, member: !user alice }",
                "  - !grant { role: !group leads, member: !group devs }",
                "  - !variable { id: db/password, annotations: { description: the database password } }",
                "  - !variable api/token",
                "  - !variable hidden",
                "  - !group { id: owned, owner: !user carol }",
                "  - !variable { id: carols, owner: !group owned }",
                "  - !permit { role: !group leads, privileges: [ read, execute ], resource: !variable db/password }",
                "  - !permit { role: !user alice, privilege: read, resource: !variable api/token }",
                "  - !permit { role: !user alice, privilege: read, resource: !group devs }", ""));
        alice = Api.token("alice@" + ns, apiKey(loaded, "user:alice@" + ns));
        carol = Api.token("carol@" + ns, apiKey(loaded, "user:carol@" + ns));
    }

    private static List<String> ids(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.get("id").asText()));
        return out;
    }

    @Test
    public void listShowsOnlyVisibleResourcesSortedById() {
        List<String> seen = ids(get("/resources/" + ACCOUNT + "/variable", alice).json());
        assertTrue(seen.toString(), seen.contains(id("variable", ns + "/db/password")));
        assertTrue("transitive through devs → leads", seen.contains(id("variable", ns + "/db/password")));
        assertTrue(seen.contains(id("variable", ns + "/api/token")));
        assertFalse(seen.contains(id("variable", ns + "/hidden")));
        List<String> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertEquals(sorted, seen);
        assertEquals(seen.size(), get("/resources/" + ACCOUNT + "/variable?count=true", alice).json().get("count")
                .asInt());
        assertTrue(ids(get("/resources", alice).json()).containsAll(seen));
    }

    @Test
    public void searchLimitOffsetAndOwner() {
        List<String> found = ids(get("/resources/" + ACCOUNT + "?search=" + q("database password"), admin()).json());
        assertTrue(found.toString(), found.contains(id("variable", ns + "/db/password")));
        assertTrue("every word must match the id or an annotation",
                found.stream().allMatch(f -> f.contains("password")));
        assertEquals(List.of(id("variable", ns + "/api/token")),
                ids(get("/resources/" + ACCOUNT + "/variable?search=" + q(ns + "/api"), admin()).json()));
        List<String> all = ids(get("/resources/" + ACCOUNT + "/variable?search=" + ns, admin()).json());
        assertEquals(4, all.size());
        assertEquals(all.subList(1, 3),
                ids(get("/resources/" + ACCOUNT + "/variable?search=" + ns + "&limit=2&offset=1", admin()).json()));
        assertEquals(List.of(id("variable", ns + "/carols")), ids(get("/resources/" + ACCOUNT + "/variable?owner="
                + q(id("user", "carol@" + ns)), admin()).json()));
        for (String bad : new String[] {"limit=0", "limit=-1", "offset=-1", "limit=abc", "limit=1001"}) {
            Api.Resp r = get("/resources/" + ACCOUNT + "?" + bad, admin());
            assertEquals(bad, 422, r.status);
        }
        assertEquals(200, get("/resources/" + ACCOUNT + "?limit=10000", admin()).status);
        assertEquals(10, get("/resources/" + ACCOUNT + "?offset=0", admin()).json().size());
    }

    @Test
    public void actingAsNeedsTheRoleFullyQualified() {
        List<String> asDevs = ids(get("/resources/" + ACCOUNT + "/variable?acting_as=" + q(id("group", ns + "/devs")),
                alice).json());
        assertTrue(asDevs.contains(id("variable", ns + "/db/password")));
        assertFalse("devs don't have alice's own permissions", asDevs.contains(id("variable", ns + "/api/token")));
        assertEquals(403, get("/resources/" + ACCOUNT + "?acting_as=" + q("group:" + ns + "/devs"), alice).status);
        assertEquals(403, get("/resources/" + ACCOUNT + "?acting_as=" + q(id("user", "carol@" + ns)), alice).status);
    }

    @Test
    public void showIs404WhenInvisible() {
        assertEquals(200, get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/api/token"), alice).status);
        Api.Resp r = get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/hidden"), alice);
        assertEquals(404, r.status);
        assertEquals("not_found", r.code());
        assertEquals("variable", r.json().at("/error/target").asText());
        assertEquals(id("variable", ns + "/hidden"), r.json().at("/error/details/message").asText());
        JsonNode shown = get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/db/password"), admin()).json();
        assertEquals(id("policy", ns), shown.get("owner").asText());
        assertEquals("description", shown.at("/annotations/0/name").asText());
        assertTrue(shown.get("secrets").isArray());
        assertTrue(shown.get("created_at").asText().matches("\\d{4}-.*[+-]\\d\\d:\\d\\d"));
    }

    @Test
    public void checkAndPermittedRoles() {
        String res = "/resources/" + ACCOUNT + "/variable/" + enc(ns + "/db/password");
        assertEquals(204, get(res + "?check=true&privilege=execute", alice).status);
        assertEquals(404, get(res + "?check=true&privilege=update", alice).status);
        assertEquals(204, get(res + "?check=true&privilege=execute&role=" + q(id("group", ns + "/devs")), alice)
                .status);
        assertEquals(403, get(res + "?check=true&privilege=execute&role=" + q(id("user", "carol@" + ns)), alice)
                .status);
        assertEquals(403, get(res + "?check=true&privilege=execute&role=" + q(id("user", "nobody")), alice).status);
        assertEquals(422, get(res + "?check=true", alice).status);
        // Ownership is every privilege: carol owns group owned, which owns variable carols.
        assertEquals(204, get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/carols")
                + "?check=true&privilege=anything", carol).status);
        JsonNode permitted = get(res + "?permitted_roles=true&privilege=execute", admin()).json();
        List<String> roles = ids(permitted);
        assertTrue(roles.toString(), roles.containsAll(List.of(id("group", ns + "/leads"), id("group", ns + "/devs"),
                id("user", "alice@" + ns), id("policy", ns))));
        assertFalse(roles.contains(id("user", "carol@" + ns)));
        assertEquals(422, get(res + "?permitted_roles=true", admin()).status);
    }

    @Test
    public void roleShowMembersMembershipsAllAndGraph() {
        String devs = "/roles/" + ACCOUNT + "/group/" + enc(ns + "/devs");
        JsonNode shown = get(devs, alice).json();
        assertEquals(id("group", ns + "/devs"), shown.get("id").asText());
        List<String> members = new ArrayList<>();
        shown.get("members").forEach(m -> members.add(m.get("member").asText()));
        assertTrue(members.containsAll(List.of(id("user", "alice@" + ns), id("policy", ns))));
        JsonNode ownerRow = null;
        for (JsonNode m : shown.get("members")) {
            if (m.get("ownership").asBoolean()) {
                ownerRow = m;
            }
        }
        assertTrue("the owner is a member with admin and ownership", ownerRow != null
                && ownerRow.get("admin_option").asBoolean() && ownerRow.get("member").asText().equals(id("policy", ns)));
        assertEquals(2, get(devs + "?members&count=true", alice).json().get("count").asInt());
        assertEquals(List.of(id("user", "alice@" + ns)), memberIds(get(devs + "?members&kind=user", alice).json()));
        assertEquals(List.of(id("user", "alice@" + ns)), memberIds(get(devs + "?members&search=alice", alice).json()));
        JsonNode memberships = get("/roles/" + ACCOUNT + "/user/" + enc("alice@" + ns) + "?memberships", admin())
                .json();
        assertTrue(memberships.toString().contains(id("group", ns + "/devs")));
        JsonNode filtered = get("/roles/" + ACCOUNT + "/user/" + enc("alice@" + ns) + "?memberships&filter[]="
                + q(id("group", ns + "/leads")), admin()).json();
        assertEquals("alice is not directly in leads", 0, filtered.size());
        List<String> all = ids(get("/roles/" + ACCOUNT + "/user/" + enc("alice@" + ns) + "?all", admin()).json());
        assertTrue(all.containsAll(List.of(id("user", "alice@" + ns), id("group", ns + "/devs"),
                id("group", ns + "/leads"))));
        JsonNode graph = get(devs + "?graph", admin()).json();
        assertTrue(graph.toString(), graph.toString().contains("{\"parent\":\"" + id("group", ns + "/leads")
                + "\",\"child\":\"" + id("group", ns + "/devs") + "\"}"));
        assertEquals(404, get("/roles/" + ACCOUNT + "/group/" + enc(ns + "/leads"), carol).status);
    }

    private static List<String> memberIds(JsonNode rows) {
        List<String> out = new ArrayList<>();
        rows.forEach(r -> out.add(r.get("member").asText()));
        return out;
    }

    @Test
    public void grantsThroughTheRolesApiNeedPolicyPrivileges() {
        String leads = "/roles/" + ACCOUNT + "/group/" + enc(ns + "/leads") + "?members&member=";
        String carolId = q(id("user", "carol@" + ns));
        assertEquals(404, send("POST", leads + carolId, null, "Authorization", carol).status);
        assertEquals(403, send("POST", "/roles/" + ACCOUNT + "/group/" + enc(ns + "/devs") + "?members&member="
                + carolId, null, "Authorization", alice).status);
        assertEquals(204, send("POST", leads + carolId, null, "Authorization", admin()).status);
        assertEquals(204, get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/db/password")
                + "?check=true&privilege=execute", carol).status);
        assertEquals(204, send("DELETE", leads + carolId, null, "Authorization", admin()).status);
        assertEquals(404, get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/db/password")
                + "?check=true&privilege=execute", carol).status);
        assertEquals(404, send("POST", leads + q(id("user", "nobody-" + ns)), null, "Authorization", admin()).status);
    }
}
