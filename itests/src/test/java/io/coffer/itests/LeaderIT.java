package io.coffer.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.ServiceRegistration;

/** A Leader booted from the distribution: health on both ports, TLS-only API at the root path, dynamic resources. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LeaderIT extends CofferTestSupport {

    @Inject
    BundleContext context;

    @Inject
    io.coffer.api.authn.Accounts accounts;

    private static String apiKey;

    private synchronized String apiKey() {
        if (apiKey == null) {
            apiKey = accounts.create("itest");
        }
        return apiKey;
    }

    @Configuration
    public Option[] config() {
        return boot(new Node(28443), "leader", 28101, 28199);
    }

    private HttpResponse<String> waitHealthy(HttpClient c) {
        return eventually("/health 200 on the API port", () -> unchecked(c, "https://127.0.0.1:" + apiPort() + "/health"),
                r -> r.statusCode() == 200, Duration.ofSeconds(120));
    }

    @Test
    public void healthAnswersOnBothPortsWithTheLeaderRole() throws Exception {
        HttpClient tls = tlsClient();
        HttpResponse<String> r = waitHealthy(tls);
        assertTrue(r.body(), r.body().contains("\"role\":\"leader\""));
        assertTrue(r.body(), r.body().contains("\"in_recovery\":false"));
        HttpClient plain = HttpClient.newHttpClient();
        assertEquals(200, get(plain, "http://127.0.0.1:" + healthPort() + "/health").statusCode());
        assertEquals(200, get(plain, "http://127.0.0.1:" + healthPort() + "/health/leader").statusCode());
        assertEquals(502, get(plain, "http://127.0.0.1:" + healthPort() + "/health/replica").statusCode());
        assertEquals(200, get(tls, "https://127.0.0.1:" + apiPort() + "/health/live").statusCode());
    }

    @Test
    public void theApiIsNeverServedInCleartext() throws Exception {
        waitHealthy(tlsClient());
        HttpClient plain = HttpClient.newHttpClient();
        HttpResponse<String> r = get(plain, "http://127.0.0.1:" + healthPort() + "/secrets/demo/variable/x");
        assertEquals(404, r.statusCode());
        assertTrue(r.body(), r.body().contains("the API answers over TLS"));
        // The TLS port refuses a cleartext request (no HTTP answer with API content).
        try {
            HttpResponse<String> clear = get(plain, "http://127.0.0.1:" + apiPort() + "/health");
            assertFalse("cleartext on the API port got " + clear.statusCode(), clear.statusCode() == 200);
        } catch (java.io.IOException expected) {
            // connection closed by the TLS connector: what we want
        }
        // Karaf's default 8181 connector is off.
        try {
            get(plain, "http://127.0.0.1:8181/health");
            org.junit.Assert.fail("8181 answered");
        } catch (java.io.IOException expected) {
            // refused
        }
    }

    @Test
    public void resourcesJoinAndLeaveTheApplicationWithoutRefreshingCoreBundles() throws Exception {
        HttpClient tls = tlsClient();
        waitHealthy(tls);
        String base = "https://127.0.0.1:" + apiPort() + "/itest-echo/";
        String auth = tokenHeader(tls, "itest", "admin", apiKey());
        assertEquals(404, send(tls, "GET", base + "demo/variable/x", null, "Authorization", auth).statusCode());

        List<String> stopped = new ArrayList<>();
        SynchronousBundleListener watch = e -> {
            if (e.getType() == BundleEvent.STOPPED || e.getType() == BundleEvent.UNRESOLVED) {
                synchronized (stopped) {
                    stopped.add(e.getBundle().getSymbolicName());
                }
            }
        };
        context.addBundleListener(watch);
        try {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("coffer.jaxrs.resource", true);
            ServiceRegistration<Object> reg = context.registerService(Object.class, new EchoResource(), props);
            HttpResponse<String> r = eventually("the new resource answers",
                    () -> authed(tls, base + "demo/variable/db%2Fpassword", auth), x -> x.statusCode() == 200,
                    Duration.ofSeconds(30));
            assertEquals("a joining resource is protected by default", 401,
                    get(tls, base + "demo/variable/db%2Fpassword").statusCode());
            // Conjur ids: %2F reaches the resource as one id with a slash; '+' stays literal.
            assertTrue(r.body(), r.body().contains("\"id\":\"db/password\""));
            r = authed(tls, base + "demo/variable/a+b%2Bc", auth);
            assertTrue(r.body(), r.body().contains("\"id\":\"a+b+c\""));
            r = authed(tls, base + "my%20acct/variable/prod%2Fdb%2Fpass%20word", auth);
            assertTrue(r.body(), r.body().contains("\"account\":\"my acct\""));
            assertTrue(r.body(), r.body().contains("\"id\":\"prod/db/pass word\""));
            assertEquals(200, get(tls, "https://127.0.0.1:" + apiPort() + "/health").statusCode());

            reg.unregister();
            eventually("the resource is gone", () -> authed(tls, base + "demo/variable/x", auth),
                    x -> x.statusCode() == 404, Duration.ofSeconds(30));
            assertEquals(200, get(tls, "https://127.0.0.1:" + apiPort() + "/health").statusCode());
        } finally {
            context.removeBundleListener(watch);
        }
        synchronized (stopped) {
            assertEquals("bundles stopped or refreshed while resources came and went", List.of(), stopped);
        }
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName().startsWith("io.coffer.")) {
                assertEquals(b.getSymbolicName(), Bundle.ACTIVE, b.getState());
            }
        }
    }

    private static HttpResponse<String> authed(HttpClient c, String url, String auth) {
        try {
            return send(c, "GET", url, null, "Authorization", auth);
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        }
    }

    @Test
    public void loginAuthenticateAndWhoamiOverTls() throws Exception {
        HttpClient tls = tlsClient();
        waitHealthy(tls);
        String api = "https://127.0.0.1:" + apiPort();
        String key = apiKey();
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString(("admin:" + key).getBytes("UTF-8"));
        HttpResponse<String> login = send(tls, "GET", api + "/authn/itest/login", null, "Authorization", basic);
        assertEquals(200, login.statusCode());
        assertEquals(key, login.body());
        String wrong = "Basic " + java.util.Base64.getEncoder().encodeToString("admin:nope".getBytes("UTF-8"));
        HttpResponse<String> denied = send(tls, "GET", api + "/authn/itest/login", null, "Authorization", wrong);
        assertEquals(401, denied.statusCode());
        assertEquals("", denied.body());

        HttpResponse<String> b64 = send(tls, "POST", api + "/authn/itest/admin/authenticate", key,
                "Accept-Encoding", "gzip , bASe64 ,br");
        assertEquals(200, b64.statusCode());
        assertEquals("base64", b64.headers().firstValue("Content-Encoding").orElse(""));
        String json = new String(java.util.Base64.getDecoder().decode(b64.body()), "UTF-8");
        assertTrue(json, json.startsWith("{\"protected\":"));
        assertEquals(401, send(tls, "POST", api + "/authn/itest/admin/authenticate", "not-the-key").statusCode());
        assertEquals(401, send(tls, "POST", api + "/authn/itest/user%2Fnobody/authenticate", key).statusCode());

        String auth = "Token token=\"" + b64.body() + "\"";
        HttpResponse<String> who = send(tls, "GET", api + "/whoami", null, "Authorization", auth);
        assertEquals(who.body(), 200, who.statusCode());
        assertTrue(who.body(), who.body().contains("\"account\":\"itest\""));
        assertTrue(who.body(), who.body().contains("\"username\":\"admin\""));
        HttpResponse<String> anon = get(tls, api + "/whoami");
        assertEquals(401, anon.statusCode());
        assertEquals("Authorization missing", anon.body());
        assertEquals("Malformed authorization token", send(tls, "GET", api + "/whoami", null, "Authorization",
                "Token token=\"e30=\"").body());
    }

    @Test
    public void passwordChangeAndApiKeyRotationFollowConjursRules() throws Exception {
        HttpClient tls = tlsClient();
        waitHealthy(tls);
        String api = "https://127.0.0.1:" + apiPort();
        String key = accounts.create("creds");
        String basicKey = basic("admin", key);

        HttpResponse<String> weak = send(tls, "PUT", api + "/authn/creds/password", "short", "Authorization", basicKey);
        assertEquals(422, weak.statusCode());
        assertTrue(weak.body(), weak.body().contains("\"code\":\"validation_failed\"") && weak.body().contains("CONJ00046E"));
        assertEquals(204, send(tls, "PUT", api + "/authn/creds/password", "ABcd1234!xyz-new", "Authorization",
                basicKey).statusCode());
        // The password now logs in (bcrypt) and gives the API key; a wrong one doesn't.
        HttpResponse<String> login = send(tls, "GET", api + "/authn/creds/login", null, "Authorization",
                basic("admin", "ABcd1234!xyz-new"));
        assertEquals(200, login.statusCode());
        assertEquals(key, login.body());
        assertEquals(401, send(tls, "GET", api + "/authn/creds/login", null, "Authorization",
                basic("admin", "ABcd1234!xyz-old")).statusCode());

        String token = tokenHeader(tls, "creds", "admin", key);
        HttpResponse<String> weakToken = send(tls, "PUT", api + "/authn/creds/api_key", null, "Authorization", token);
        assertEquals(401, weakToken.statusCode());
        assertTrue(weakToken.body(), weakToken.body().contains("Credential strength is insufficient"));
        assertEquals("a token can't change a password", 401,
                send(tls, "PUT", api + "/authn/creds/password", "ABcd1234!xyz-new2", "Authorization", token).statusCode());

        HttpResponse<String> when = send(tls, "GET", api + "/authn/creds/api_key", null, "Authorization", basicKey);
        assertEquals(when.body(), 200, when.statusCode());
        assertTrue(when.body(), when.body().matches("\\{\"role\":\"creds:user:admin\",\"timestamp\":\"\\d{4}-\\d\\d-\\d\\dT[0-9:]{8}Z\"}"));
        HttpResponse<String> rotated = send(tls, "PUT", api + "/authn/creds/api_key", null, "Authorization", basicKey);
        assertEquals(200, rotated.statusCode());
        String newKey = rotated.body();
        assertTrue(newKey, newKey.matches("[0-9a-hjkmnp-tv-z]{40,56}") && !newKey.equals(key));
        assertEquals("the old key is dead", 401, send(tls, "POST", api + "/authn/creds/admin/authenticate", key).statusCode());
        assertEquals(200, send(tls, "POST", api + "/authn/creds/admin/authenticate", newKey).statusCode());
        assertEquals("another role through Basic auth", 401, send(tls, "PUT", api + "/authn/creds/api_key?role=user:bob",
                null, "Authorization", basic("admin", newKey)).statusCode());
        assertEquals("an invisible role", 404, send(tls, "PUT", api + "/authn/creds/api_key?role=user:bob", null,
                "Authorization", tokenHeader(tls, "creds", "admin", newKey)).statusCode());
        assertEquals("the root policy is owned by admin but has no API key", 405, send(tls, "PUT",
                api + "/authn/creds/api_key?role=policy:root", null, "Authorization",
                tokenHeader(tls, "creds", "admin", newKey)).statusCode());
    }

    @Test
    public void policyLoadThenSecretsWithRbac() throws Exception {
        HttpClient tls = tlsClient();
        waitHealthy(tls);
        String api = "https://127.0.0.1:" + apiPort();
        String admin = tokenHeader(tls, "pol", "admin", accounts.create("pol"));
        String policy = String.join("\n",
                "- !user",
                "  id: carol",
                "  public_keys:",
                "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 laptop",
                "  - ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2 desk",
                "- !policy",
                "  id: prod",
                "  body:",
                "  - &vars",
                "    - !variable db/password",
                "    - !variable { id: cert, mime_type: application/x-pem-file }",
                "  - !host app",
                "  - !host spy",
                "  - !permit { role: !host app, privileges: [ read, execute ], resources: *vars }",
                "  - !permit { role: !host spy, privilege: read, resource: !variable db/password }", "");
        HttpResponse<String> load = send(tls, "POST", api + "/policies/pol/policy/root", policy, "Authorization", admin);
        assertEquals(load.body(), 201, load.statusCode());
        assertTrue(load.body(), load.body().contains("\"pol:host:prod/app\"") && load.body().contains("\"version\":1"));
        String appKey = apiKeyOf(load.body(), "pol:host:prod/app");
        String spyKey = apiKeyOf(load.body(), "pol:host:prod/spy");

        HttpResponse<String> pub = get(tls, api + "/public_keys/pol/user/carol");
        assertEquals("no token needed", 200, pub.statusCode());
        assertEquals("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2 desk\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 laptop\n",
                pub.body());
        assertEquals("", get(tls, api + "/public_keys/pol/user/nobody").body());
        String secret = api + "/secrets/pol/variable/prod%2Fdb%2Fpassword";
        HttpResponse<String> w1 = send(tls, "POST", secret, "s3cret-v1", "Authorization", admin);
        assertEquals(201, w1.statusCode());
        assertEquals("it-leader", w1.headers().firstValue("X-Coffer-Node").orElse(""));
        assertTrue(w1.headers().toString(), w1.headers().firstValue("X-Coffer-Position").orElse("")
                .matches("\\d+/[0-9A-F]+/[0-9A-F]+"));
        assertTrue(w1.headers().firstValue("X-Coffer-Epoch").orElse("").matches("\\d+"));
        assertEquals(201, send(tls, "POST", secret, "s3cret-v2", "Authorization", admin).statusCode());
        assertEquals("an identical value is no new version", 201,
                send(tls, "POST", secret, "s3cret-v2", "Authorization", admin).statusCode());
        assertEquals(422, send(tls, "POST", secret, "  ", "Authorization", admin).statusCode());
        assertEquals(201, send(tls, "POST", secret + "?expirations", null, "Authorization", admin).statusCode());

        String app = tokenHeader(tls, "pol", "host/prod/app", appKey);
        HttpResponse<String> got = send(tls, "GET", secret, null, "Authorization", app);
        assertEquals(200, got.statusCode());
        assertEquals("s3cret-v2", got.body());
        assertEquals("application/octet-stream", got.headers().firstValue("Content-Type").orElse(""));
        assertEquals("s3cret-v1", send(tls, "GET", secret + "?version=1", null, "Authorization", app).body());
        assertEquals(404, send(tls, "GET", secret + "?version=3", null, "Authorization", app).statusCode());
        assertEquals(422, send(tls, "GET", secret + "?version=x", null, "Authorization", app).statusCode());
        assertEquals("app may execute, not update", 403,
                send(tls, "POST", secret, "nope", "Authorization", app).statusCode());
        HttpResponse<String> empty = send(tls, "GET", api + "/secrets/pol/variable/prod%2Fcert", null, "Authorization", app);
        assertEquals(404, empty.statusCode());
        assertTrue(empty.body(), empty.body().contains("CONJ00076E"));
        String spy = tokenHeader(tls, "pol", "host/prod/spy", spyKey);
        assertEquals("read without execute: 403", 403, send(tls, "GET", secret, null, "Authorization", spy).statusCode());
        HttpResponse<String> hidden = send(tls, "GET", api + "/secrets/pol/variable/prod%2Fcert", null, "Authorization", spy);
        assertEquals("invisible: 404, not 403", 404, hidden.statusCode());

        // Batch: JSON of values; an empty variable is 404; blank items 422; no execute (or invisible) is 403.
        String batch = api + "/secrets?variable_ids=";
        HttpResponse<String> both = send(tls, "GET", batch + "pol:variable:prod/db/password", null, "Authorization", app);
        assertEquals(both.body(), 200, both.statusCode());
        assertEquals("{\"pol:variable:prod/db/password\":\"s3cret-v2\"}", both.body());
        assertEquals(404, send(tls, "GET", batch + "pol:variable:prod/db/password,pol:variable:prod/cert", null,
                "Authorization", app).statusCode());
        assertEquals(422, send(tls, "GET", batch + "pol:variable:prod/db/password,,", null, "Authorization", app)
                .statusCode());
        assertEquals(403, send(tls, "GET", batch + "pol:variable:prod/db/password", null, "Authorization", spy)
                .statusCode());
        assertEquals("invisible is 403 in a batch", 403, send(tls, "GET", batch + "pol:variable:prod/cert", null,
                "Authorization", spy).statusCode());
        HttpResponse<String> b64 = send(tls, "GET", batch + "pol:variable:prod/db/password", null,
                "Authorization", app, "Accept-Encoding", "base64");
        assertEquals("base64", b64.headers().firstValue("Content-Encoding").orElse(""));
        assertTrue(b64.body(), b64.body().contains("czNjcmV0LXYy\\n"));

        // Resources: listing shows only what the caller sees; show, check.
        HttpResponse<String> mine = send(tls, "GET", api + "/resources/pol/variable", null, "Authorization", spy);
        assertEquals(200, mine.statusCode());
        assertTrue(mine.body(), mine.body().contains("\"id\":\"pol:variable:prod/db/password\"")
                && !mine.body().contains("prod/cert"));
        assertEquals("{\"count\":2}", send(tls, "GET", api + "/resources/pol/variable?count=true", null,
                "Authorization", app).body());
        HttpResponse<String> shown = send(tls, "GET", api + "/resources/pol/variable/prod%2Fcert", null,
                "Authorization", admin);
        assertTrue(shown.body(), shown.body().contains("\"owner\":\"pol:policy:prod\"")
                && shown.body().contains("conjur/mime_type"));
        assertEquals(404, send(tls, "GET", api + "/resources/pol/variable/prod%2Fcert", null, "Authorization", spy)
                .statusCode());
        assertEquals(204, send(tls, "GET", api + "/resources/pol/variable/prod%2Fdb%2Fpassword?check=true&privilege=execute",
                null, "Authorization", app).statusCode());
        assertEquals(404, send(tls, "GET", api + "/resources/pol/variable/prod%2Fdb%2Fpassword?check=true&privilege=update",
                null, "Authorization", app).statusCode());
        HttpResponse<String> permitted = send(tls, "GET", api
                + "/resources/pol/variable/prod%2Fdb%2Fpassword?permitted_roles=true&privilege=execute", null,
                "Authorization", admin);
        assertEquals(permitted.body(), 200, permitted.statusCode());
        assertTrue(permitted.body(), permitted.body().contains("\"pol:host:prod/app\"")
                && permitted.body().contains("\"pol:user:admin\"") && !permitted.body().contains("prod/spy"));
        assertEquals(422, send(tls, "GET", api + "/resources/pol/variable/prod%2Fdb%2Fpassword?permitted_roles=true",
                null, "Authorization", admin).statusCode());
        assertEquals(422, send(tls, "GET", api + "/resources/pol/variable?limit=0", null, "Authorization", app)
                .statusCode());
        assertEquals("acting as a role one doesn't have", 403, send(tls, "GET",
                api + "/resources/pol?acting_as=pol:user:admin", null, "Authorization", app).statusCode());

        // Roles: a host's memberships and all its roles.
        HttpResponse<String> roleAll = send(tls, "GET", api + "/roles/pol/host/prod%2Fapp?all", null,
                "Authorization", admin);
        assertEquals(roleAll.body(), 200, roleAll.statusCode());
        assertTrue(roleAll.body(), roleAll.body().startsWith("[") && roleAll.body().contains("\"pol:host:prod/app\""));
        HttpResponse<String> members = send(tls, "GET", api + "/roles/pol/policy/prod?members", null,
                "Authorization", admin);
        assertTrue(members.body(), members.body().startsWith("[") && members.body().contains("\"ownership\":true")
                && members.body().contains("\"member\":\"pol:user:admin\""));
        assertEquals(404, send(tls, "GET", api + "/roles/pol/host/prod%2Fapp", null, "Authorization", spy)
                .statusCode());

        HttpResponse<String> bad = send(tls, "POST", api + "/policies/pol/policy/root", "- !user a\n- !nope b\n",
                "Authorization", admin);
        assertEquals(422, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("\"policy_invalid\"") && bad.body().contains("\"line\":2"));
        HttpResponse<String> del = send(tls, "POST", api + "/policies/pol/policy/root", "- !delete { record: !user a }\n",
                "Authorization", admin);
        assertEquals(422, del.statusCode());
        assertTrue(del.body(), del.body().contains("may not contain deletion statements"));
        assertEquals("the root policy is invisible to a host: 404", 404, send(tls, "POST", api + "/policies/pol/policy/root",
                "- !user x\n", "Authorization", app).statusCode());
    }

    private static String apiKeyOf(String createdRoles, String role) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + java.util.regex.Pattern.quote(role)
                + "\":\\{[^}]*\"api_key\":\"([0-9a-z]+)\"").matcher(createdRoles);
        assertTrue(createdRoles, m.find());
        return m.group(1);
    }

    private static String basic(String login, String secret) throws Exception {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((login + ":" + secret).getBytes("UTF-8"));
    }

    @Test
    public void unknownRoutesAnswerJsonErrors() throws Exception {
        HttpClient tls = tlsClient();
        waitHealthy(tls);
        HttpResponse<String> r = authed(tls, "https://127.0.0.1:" + apiPort() + "/no/such/route",
                tokenHeader(tls, "itest", "admin", apiKey()));
        assertEquals(404, r.statusCode());
        assertTrue(r.body(), r.body().contains("\"code\":\"not_found\""));
        HttpResponse<String> json = send(tls, "GET", "https://127.0.0.1:" + apiPort() + "/", null,
                "Accept", "application/json", "X-Request-Id", "trace-42");
        assertEquals(200, json.statusCode());
        assertTrue(json.body(), json.body().contains("\"version\""));
        assertEquals("trace-42", json.headers().firstValue("X-Request-Id").orElse(""));
        HttpResponse<String> html = send(tls, "GET", "https://127.0.0.1:" + apiPort() + "/", null,
                "Accept", "text/html", "X-Request-Id", "x".repeat(129));
        assertTrue(html.body(), html.body().contains("is running!"));
        assertTrue("an over-long request id is replaced",
                html.headers().firstValue("X-Request-Id").orElse("").matches("[0-9a-f-]{36}"));
        HttpResponse<String> info = get(tls, "https://127.0.0.1:" + apiPort() + "/info");
        assertTrue(info.body(), info.body().contains("\"role\":\"leader\"") && info.body().contains("\"conjur_role\":\"master\""));
        HttpResponse<String> authenticators = get(tls, "https://127.0.0.1:" + apiPort() + "/authenticators");
        assertEquals(200, authenticators.statusCode());
        assertTrue(authenticators.body(), authenticators.body().contains("\"installed\":[\"authn\"]"));
        assertFalse("no service list page", get(tls, "https://127.0.0.1:" + apiPort() + "/services").body()
                .contains("Available RESTful services"));
    }
}
