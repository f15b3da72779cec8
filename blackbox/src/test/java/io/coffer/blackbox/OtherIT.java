package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.form;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.id;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.q;
import static io.coffer.blackbox.Api.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.ClassRule;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** conjur-api §0 (middleware, request ids, error shapes) and §1.6 (whoami, status, host factories, accounts). */
public class OtherIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();

    @Test
    public void whoamiDescribesTheCaller() {
        JsonNode me = get("/whoami", admin(), "User-Agent", "blackbox/1").json();
        assertEquals(ACCOUNT, me.get("account").asText());
        assertEquals("admin", me.get("username").asText());
        assertEquals("127.0.0.1", me.get("client_ip").asText());
        assertEquals("blackbox/1", me.get("user_agent").asText());
        assertTrue(me.get("token_issued_at").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*"));
    }

    @Test
    public void statusPageAndInfo() {
        Api.Resp html = get("/", null);
        assertEquals(200, html.status);
        assertTrue(html.text().contains("is running!"));
        JsonNode json = get("/", null, "Accept", "application/json").json();
        assertTrue(json.get("version").isTextual());
        Api.Resp health = get("/health", null);
        assertEquals(200, health.status);
        assertEquals("leader", health.json().get("role").asText());
        JsonNode info = get("/info", null).json();
        assertTrue(info.toString(), info.has("authenticators") && info.has("version") && info.has("role"));
    }

    @Test
    public void tokenMiddlewareErrors() {
        Api.Resp none = get("/resources/" + ACCOUNT, null);
        assertEquals(401, none.status);
        assertEquals("Authorization missing", none.text());
        assertEquals("Malformed authorization token", get("/whoami", "Token token=\"!!!notbase64\"").text());
        String forged = Base64.getEncoder().encodeToString(("{\"protected\":\"e30=\",\"payload\":\"e30=\","
                + "\"signature\":\"AAAA\"}").getBytes(StandardCharsets.UTF_8));
        Api.Resp bad = get("/whoami", "Token token=\"" + forged + "\"");
        assertEquals(401, bad.status);
        assertEquals("Unauthorized: Invalid token", bad.text());
        // A token with one signature byte changed.
        String token = admin();
        String raw = new String(Base64.getDecoder().decode(token.substring(13, token.length() - 1)),
                StandardCharsets.UTF_8);
        JsonNode t = Api.JSON.valueToTree(Api.JSON.convertValue(readTree(raw), java.util.Map.class));
        String sig = t.get("signature").asText();
        String flipped = raw.replace(sig, (sig.charAt(0) == 'A' ? "B" : "A") + sig.substring(1));
        assertEquals(401, get("/whoami", "Token token=\"" + Base64.getEncoder().encodeToString(
                flipped.getBytes(StandardCharsets.UTF_8)) + "\"").status);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static JsonNode readTree(String s) {
        try {
            return Api.JSON.readTree(s);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    public void requestIdsAreHonouredWhenSaneAndReplacedOtherwise() {
        assertEquals("trace-abc-123", get("/health", null, "X-Request-Id", "trace-abc-123").header("X-Request-Id"));
        String tooLong = "x".repeat(129);
        String replaced = get("/health", null, "X-Request-Id", tooLong).header("X-Request-Id");
        assertNotEquals(tooLong, replaced);
        assertTrue(replaced, replaced.matches("[0-9a-f-]{36}"));
        assertTrue(get("/health", null, "X-Request-Id", null).header("X-Request-Id").matches("[0-9a-f-]{36}"));
    }

    @Test
    public void writesCarryTheirPosition() {
        Api.Resp r = send("POST", "/policies/" + ACCOUNT + "/policy/root",
                ("- !variable pos-" + Api.namespace("w") + "\n").getBytes(StandardCharsets.UTF_8),
                "Authorization", admin());
        assertEquals(201, r.status);
        assertTrue(r.header("X-Coffer-Position"), r.header("X-Coffer-Position").matches("\\d+/[0-9A-F]+/[0-9A-F]+"));
        assertTrue(r.header("X-Coffer-Node") != null && r.header("X-Coffer-Epoch") != null);
    }

    @Test
    public void hostFactoryTokensEnrolHostsIntoTheLayers() {
        String ns = Api.namespace("hf");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !layer servers",
                "  - !host-factory { id: factory, layers: [ !layer servers ] }",
                "  - !variable db",
                "  - !permit { role: !layer servers, privileges: [ read, execute ], resource: !variable db }",
                "  - !user operator",
                "  - !user viewer",
                "  - !permit { role: !user operator, privileges: [ read, execute, update ], resource: !host-factory "
                        + "factory }",
                "  - !permit { role: !user viewer, privileges: [ read ], resource: !host-factory factory }", ""));
        String operator = Api.token("operator@" + ns, apiKey(loaded, "user:operator@" + ns));
        String viewer = Api.token("viewer@" + ns, apiKey(loaded, "user:viewer@" + ns));
        String hf = q(id("host_factory", ns + "/factory"));
        Api.Resp tokens = form("POST", "/host_factory_tokens", operator,
                "host_factory=" + hf + "&expiration=2099-01-01T00:00:00Z&count=2&cidr[]=127.0.0.0/8");
        assertEquals(tokens.toString(), 200, tokens.status);
        assertEquals(2, tokens.json().size());
        assertEquals("2099-01-01T00:00:00Z", tokens.json().at("/0/expiration").asText());
        assertEquals("127.0.0.0/8", tokens.json().at("/0/cidr/0").asText());
        String hfToken = tokens.json().at("/0/token").asText();
        assertEquals(403, form("POST", "/host_factory_tokens", viewer, "host_factory=" + hf
                + "&expiration=2099-01-01T00:00:00Z").status);
        assertEquals(404, form("POST", "/host_factory_tokens", viewer, "host_factory="
                + q(id("host_factory", ns + "/nope")) + "&expiration=2099-01-01T00:00:00Z").status);
        assertEquals(422, form("POST", "/host_factory_tokens", operator, "host_factory=" + hf).status);
        assertEquals(422, form("POST", "/host_factory_tokens", operator, "host_factory=" + hf
                + "&expiration=2001-01-01T00:00:00Z").status);

        String hfAuth = "Token token=\"" + hfToken + "\"";
        Api.Resp host = form("POST", "/host_factories/hosts", hfAuth, "id=" + q(ns + "/web-1")
                + "&annotations[team]=web");
        assertEquals(host.toString(), 201, host.status);
        assertEquals(id("host", ns + "/web-1"), host.json().get("id").asText());
        assertEquals(id("host_factory", ns + "/factory"), host.json().get("owner").asText());
        assertEquals("web", host.json().at("/annotations/0/value").asText());
        String hostKey = host.json().get("api_key").asText();
        // The new host is in the layer, so it can read what the layer can.
        String hostToken = Api.token("host/" + ns + "/web-1", hostKey);
        assertEquals(404, get("/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/db"), hostToken).status);
        assertEquals(204, get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/db") + "?check=true&privilege=execute",
                hostToken).status);
        // Enrolling again rotates its key.
        Api.Resp again = form("POST", "/host_factories/hosts", hfAuth, "id=" + q(ns + "/web-1"));
        assertEquals(201, again.status);
        assertNotEquals(hostKey, again.json().get("api_key").asText());
        assertEquals(422, form("POST", "/host_factories/hosts", hfAuth, "").status);
        assertEquals(422, form("POST", "/host_factories/hosts", hfAuth, "id=conjur/evil").status);
        assertEquals(401, form("POST", "/host_factories/hosts", "Token token=\"not-a-token\"", "id=x").status);
        assertEquals(401, form("POST", "/host_factories/hosts", admin(), "id=x").status);
        // The factory's resource shows its layers and tokens.
        JsonNode shown = get("/resources/" + ACCOUNT + "/host_factory/" + enc(ns + "/factory"), operator).json();
        assertEquals(id("layer", ns + "/servers"), shown.at("/layers/0").asText());
        assertEquals(2, shown.get("tokens").size());
        // Revocation needs update; a revoked token enrols nothing.
        assertEquals(403, send("DELETE", "/host_factory_tokens/" + hfToken, null, "Authorization", viewer).status);
        assertEquals(204, send("DELETE", "/host_factory_tokens/" + hfToken, null, "Authorization", operator).status);
        assertEquals(404, send("DELETE", "/host_factory_tokens/" + hfToken, null, "Authorization", operator).status);
        assertEquals(401, form("POST", "/host_factories/hosts", hfAuth, "id=" + q(ns + "/web-2")).status);
    }

    @Test
    public void accountsApiIsForOperatorsOnly() {
        String acct = Api.namespace("acct");
        Api.Resp created = form("POST", "/accounts", admin(), "id=" + acct);
        assertEquals(created.toString(), 201, created.status);
        assertEquals(acct, created.json().get("id").asText());
        String key = created.json().get("api_key").asText();
        assertEquals(200, send("POST", "/authn/" + acct + "/admin/authenticate", key.getBytes(StandardCharsets.UTF_8))
                .status);
        assertTrue(get("/accounts", admin()).json().toString().contains("\"" + acct + "\""));
        assertEquals(409, form("POST", "/accounts", admin(), "id=" + acct).status);
        assertEquals(422, form("POST", "/accounts", admin(), "id=" + q("bad:id")).status);
        assertEquals(422, form("POST", "/accounts", admin(), "").status);
        // The new account's admin is no operator.
        String other = "Token token=\"" + Base64.getEncoder().encodeToString(send("POST", "/authn/" + acct
                + "/admin/authenticate", key.getBytes(StandardCharsets.UTF_8)).body) + "\"";
        assertEquals(403, get("/accounts", other).status);
        assertEquals(204, send("DELETE", "/accounts/" + acct, null, "Authorization", admin()).status);
        assertEquals(404, send("DELETE", "/accounts/" + acct, null, "Authorization", admin()).status);
        assertEquals(401, send("POST", "/authn/" + acct + "/admin/authenticate", key.getBytes(StandardCharsets.UTF_8))
                .status);
        // Signing keys are re-read in the background after a change: the token stops working within moments.
        int status = 0;
        for (int i = 0; i < 50 && status != 401; i++) {
            status = get("/whoami", other).status;
            if (status != 401) {
                sleep(100);
            }
        }
        assertEquals("the deleted account's tokens stop working", 401, status);
    }
}
