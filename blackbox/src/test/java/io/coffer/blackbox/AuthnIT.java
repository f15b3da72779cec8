package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.ADMIN_KEY;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.basic;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.post;
import static io.coffer.blackbox.Api.send;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.ClassRule;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** conjur-api §1.1 (authn) and §2 (token framing), over HTTPS against a running node. */
public class AuthnIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    private static String ns;
    private static String aliceKey;
    private static String bobKey;
    private static String hostKey;
    private static String fencedKey;

    @BeforeClass
    public static void policy() {
        ns = Api.namespace("authn");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !user alice",
                "  - !user bob",
                "  - !host app",
                "  - !host { id: fenced, restricted_to: [ 10.99.0.0/16 ] }",
                "  - !group ops",
                "  - !permit { role: !user alice, privileges: [ read, update ], resource: !user bob }",
                "  - !permit { role: !user alice, privileges: [ read ], resource: !host app }",
                "  - !permit { role: !user alice, privileges: [ read, update ], resource: !group ops }", ""));
        aliceKey = apiKey(loaded, "user:alice@" + ns);
        bobKey = apiKey(loaded, "user:bob@" + ns);
        hostKey = apiKey(loaded, "host:" + ns + "/app");
        fencedKey = apiKey(loaded, "host:" + ns + "/fenced");
    }

    private static String alice() {
        return "alice@" + ns;
    }

    @Test
    public void loginExchangesBasicCredentialsForTheApiKey() {
        Api.Resp r = get("/authn/" + ACCOUNT + "/login", basic(alice(), aliceKey));
        assertEquals(200, r.status);
        assertEquals(aliceKey, r.text());
        assertTrue(r.header("Content-Type"), r.header("Content-Type").startsWith("text/plain"));
        // Hosts log in too, as host/<id>.
        assertEquals(hostKey, get("/authn/" + ACCOUNT + "/login", basic("host/" + ns + "/app", hostKey)).text());
    }

    @Test
    public void loginFailuresAreEmpty401s() {
        for (String auth : new String[] {basic(alice(), "wrong"), basic("nobody-" + ns, aliceKey), null,
            "Bearer x", basic(alice(), "")}) {
            Api.Resp r = get("/authn/" + ACCOUNT + "/login", auth);
            assertEquals(String.valueOf(auth), 401, r.status);
            assertEquals("", r.text());
        }
        assertEquals(401, get("/authn/no-such-account/login", basic(alice(), aliceKey)).status);
    }

    @Test
    public void authenticateReturnsAConjurFramedToken() throws Exception {
        Api.Resp r = post("/authn/" + ACCOUNT + "/" + enc(alice()) + "/authenticate", null, aliceKey);
        assertEquals(200, r.status);
        assertTrue(r.header("Content-Type").startsWith("application/json"));
        JsonNode token = r.json();
        for (String part : new String[] {"protected", "payload", "signature"}) {
            String v = token.path(part).asText();
            assertTrue(part, v.matches("[A-Za-z0-9_-]+=*") && v.length() % 4 == 0);
        }
        JsonNode claims = Api.JSON.readTree(Base64.getUrlDecoder().decode(token.get("payload").asText()));
        assertEquals(alice(), claims.get("sub").asText());
        assertTrue("TTL is at least 8 minutes", claims.get("exp").asLong() - claims.get("iat").asLong() >= 480);
        // Any content type, no form parsing; the key may end with a newline (curl -d @file).
        assertEquals(200, post("/authn/" + ACCOUNT + "/" + enc(alice()) + "/authenticate", null, aliceKey + "\n",
                "Content-Type", "application/x-www-form-urlencoded").status);
        // host%2Fid and user%2Flogin forms of the login.
        assertEquals(200, post("/authn/" + ACCOUNT + "/" + enc("host/" + ns + "/app") + "/authenticate", null,
                hostKey).status);
        assertEquals(200, post("/authn/" + ACCOUNT + "/" + enc("user/" + alice()) + "/authenticate", null,
                aliceKey).status);
    }

    @Test
    public void authenticateBase64VariantMatchesAnElementOfTheList() throws Exception {
        Api.Resp r = post("/authn/" + ACCOUNT + "/" + enc(alice()) + "/authenticate", null, aliceKey,
                "Accept-Encoding", "gzip , bASe64 ,br");
        assertEquals(200, r.status);
        assertEquals("base64", r.header("Content-Encoding"));
        assertTrue(r.header("Content-Type").startsWith("text/plain"));
        assertTrue("one line, strict base64", r.text().matches("[A-Za-z0-9+/]+=*"));
        JsonNode token = Api.JSON.readTree(Base64.getDecoder().decode(r.text()));
        assertTrue(token.has("protected") && token.has("payload") && token.has("signature"));
        // The token works when sent back as the header value.
        assertEquals(200, get("/whoami", "Token token=\"" + r.text() + "\"").status);
    }

    @Test
    public void authenticateFailuresAreEmpty401s() {
        String path = "/authn/" + ACCOUNT + "/" + enc(alice()) + "/authenticate";
        assertEquals(401, post(path, null, "wrong-key").status);
        assertEquals("", post(path, null, "wrong-key").text());
        assertEquals(401, post("/authn/" + ACCOUNT + "/" + enc("nobody-" + ns) + "/authenticate", null, aliceKey)
                .status);
        // A group has no credentials.
        assertEquals(401, post("/authn/" + ACCOUNT + "/" + enc("group/" + ns + "/ops") + "/authenticate", null,
                aliceKey).status);
        // "Refreshing" with a token is not authenticating.
        String token = Api.token(alice(), aliceKey);
        String raw = token.substring("Token token=\"".length(), token.length() - 1);
        assertEquals(401, post(path, null, new String(Base64.getDecoder().decode(raw), StandardCharsets.UTF_8))
                .status);
        // Outside restricted_to (the client is 127.0.0.1).
        assertEquals(401, post("/authn/" + ACCOUNT + "/" + enc("host/" + ns + "/fenced") + "/authenticate", null,
                fencedKey).status);
    }

    @Test
    public void selfRotationNeedsBasicAuthAndInvalidatesTheOldKey() {
        JsonNode loaded = load("POST", "root", "- !user rotor-" + ns + "\n");
        String key = apiKey(loaded, "user:rotor-" + ns);
        String login = "rotor-" + ns;
        Api.Resp r = send("PUT", "/authn/" + ACCOUNT + "/api_key", null, "Authorization", basic(login, key));
        assertEquals(r.toString(), 200, r.status);
        String fresh = r.text();
        assertNotEquals(key, fresh);
        assertEquals(401, post("/authn/" + ACCOUNT + "/" + enc(login) + "/authenticate", null, key).status);
        assertEquals(200, post("/authn/" + ACCOUNT + "/" + enc(login) + "/authenticate", null, fresh).status);
        // With a token, self rotation is refused with Conjur's message.
        Api.Resp t = send("PUT", "/authn/" + ACCOUNT + "/api_key", null, "Authorization", Api.token(login, fresh));
        assertEquals(401, t.status);
        assertEquals("unauthorized", t.code());
        assertEquals("Credential strength is insufficient", t.message());
    }

    @Test
    public void rotatingAnotherRoleNeedsATokenAndUpdate() {
        String alice = Api.token(alice(), aliceKey);
        String bob = Api.id("user", "bob@" + ns);
        Api.Resp r = send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q("user:bob@" + ns), null,
                "Authorization", alice);
        assertEquals(r.toString(), 200, r.status);
        assertEquals(401, post("/authn/" + ACCOUNT + "/" + enc("bob@" + ns) + "/authenticate", null, bobKey).status);
        bobKey = r.text();
        // acct:kind:id form of role= works too.
        assertEquals(200, send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q(bob), null, "Authorization",
                alice).status);
        // Basic auth for another role: 401.
        assertEquals(401, send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q(bob), null, "Authorization",
                basic(alice(), aliceKey)).status);
        // Only read: 403. Not visible: 404. A group (no credentials) with update: 405.
        assertEquals(403, send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q("host:" + ns + "/app"), null,
                "Authorization", alice).status);
        assertEquals(404, send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q("host:" + ns + "/fenced"), null,
                "Authorization", alice).status);
        Api.Resp group = send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q("group:" + ns + "/ops"), null,
                "Authorization", alice);
        assertEquals(405, group.status);
        assertEquals("method_not_allowed", group.code());
    }

    @Test
    public void apiKeyTimestampFollowsTheRotationRules() {
        Api.Resp r = get("/authn/" + ACCOUNT + "/api_key", basic(alice(), aliceKey));
        assertEquals(r.toString(), 200, r.status);
        assertEquals(Api.id("user", alice()), r.json().get("role").asText());
        assertTrue(r.json().get("timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
        assertEquals(200, get("/authn/" + ACCOUNT + "/api_key?role=" + Api.q("user:bob@" + ns),
                Api.token(alice(), aliceKey)).status);
        assertEquals(403, get("/authn/" + ACCOUNT + "/api_key?role=" + Api.q("host:" + ns + "/app"),
                Api.token(alice(), aliceKey)).status);
    }

    @Test
    public void passwordChangeFollowsConjursRules() {
        JsonNode loaded = load("POST", "root", "- !user pw-" + ns + "\n");
        String login = "pw-" + ns;
        String key = apiKey(loaded, "user:" + login);
        Api.Resp weak = send("PUT", "/authn/" + ACCOUNT + "/password", "short".getBytes(StandardCharsets.UTF_8),
                "Authorization", basic(login, key));
        assertEquals(422, weak.status);
        assertEquals("validation_failed", weak.code());
        assertEquals("password", weak.json().at("/error/details/0/target").asText());
        assertTrue(weak.message(), weak.message().contains("CONJ00046E"));
        String strong = "Str0ng!Passw0rd-" + ns.substring(ns.length() - 4);
        assertEquals(204, send("PUT", "/authn/" + ACCOUNT + "/password", strong.getBytes(StandardCharsets.UTF_8),
                "Authorization", basic(login, key)).status);
        // The password now logs in and gives the API key.
        assertEquals(key, get("/authn/" + ACCOUNT + "/login", basic(login, strong)).text());
        // Token auth: 401. Another user through role=: 401. A host: 403.
        assertEquals(401, send("PUT", "/authn/" + ACCOUNT + "/password", strong.getBytes(StandardCharsets.UTF_8),
                "Authorization", Api.token(login, key)).status);
        assertEquals(401, send("PUT", "/authn/" + ACCOUNT + "/password?role=" + Api.q("user:admin"),
                strong.getBytes(StandardCharsets.UTF_8), "Authorization", basic(login, key)).status);
        assertEquals(403, send("PUT", "/authn/" + ACCOUNT + "/password", strong.getBytes(StandardCharsets.UTF_8),
                "Authorization", basic("host/" + ns + "/app", hostKey)).status);
    }

    @Test
    public void repeatedFailuresForOneRoleAreThrottledWith429() {
        JsonNode loaded = load("POST", "root", "- !user victim-" + ns + "\n");
        String key = apiKey(loaded, "user:victim-" + ns);
        String path = "/authn/" + ACCOUNT + "/" + enc("victim-" + ns) + "/authenticate";
        Api.Resp r = null;
        for (int i = 0; i < 20; i++) {
            r = post(path, null, "wrong-" + i);
            if (r.status == 429) {
                break;
            }
            assertEquals(401, r.status);
        }
        assertEquals("a burst of bad keys is throttled", 429, r.status);
        assertTrue(Integer.parseInt(r.header("Retry-After")) >= 1);
        // While throttled even the right key waits: the check never runs.
        assertEquals(429, post(path, null, key).status);
        // Other roles are unaffected.
        assertEquals(200, post("/authn/" + ACCOUNT + "/" + enc(alice()) + "/authenticate", null, aliceKey).status);
    }

    @Test
    public void authenticatorsListIsOpen() {
        Api.Resp r = get("/authenticators", null);
        assertEquals(200, r.status);
        for (String k : new String[] {"installed", "configured", "enabled"}) {
            assertTrue(k, r.json().path(k).toString().contains("\"authn\""));
        }
    }

    @Test
    public void adminKeyStillWorks() {
        assertEquals(200, get("/whoami", admin()).status);
        assertEquals(ADMIN_KEY, get("/authn/" + ACCOUNT + "/login", basic("admin", ADMIN_KEY)).text());
    }
}
