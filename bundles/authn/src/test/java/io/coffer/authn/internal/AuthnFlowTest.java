package io.coffer.authn.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;


import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Identity;
import io.coffer.crypto.internal.Keyring;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.store.internal.TestDatabase;

/** Account bootstrap → authenticate → token → verify, against a real PostgreSQL and the real key hierarchy. */
public class AuthnFlowTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestDatabase db;
    private static Keyring keys;
    private static String apiKey;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        keys = TestKeys.keyring(db);
        apiKey = new AccountManager(db, keys, db.changeLog()).create("demo");
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    private static TokenService tokens(Clock clock) {
        return new TokenService(new SigningKeys(db), keys, clock);
    }

    static ApiKeyAuthenticator.Config config(int roleFailures, int clientFailures) {
        return new ApiKeyAuthenticator.Config() {
            public Class<? extends Annotation> annotationType() { return ApiKeyAuthenticator.Config.class; }
            public int role_failures() { return roleFailures; }
            public int client_failures() { return clientFailures; }
            public int window_seconds() { return 60; }
            public int bcrypt_threads() { return 1; }
            public int bcrypt_queue() { return 4; }
        };
    }

    private static String header(byte[] token) {
        return "Token token=\"" + Base64.getEncoder().encodeToString(token) + "\"";
    }

    @Test
    public void apiKeyHasConjursShape() {
        assertTrue(apiKey, apiKey.matches("[0-9a-hjkmnp-tv-z]{47,56}"));
        try {
            new AccountManager(db, keys, db.changeLog()).create("demo");
            fail("duplicate account");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("already exists"));
        }
    }

    @Test
    public void authenticateIssuesAConjurFramedTokenThatVerifies() throws Exception {
        TokenService t = tokens(Clock.systemUTC());
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, t, config(10, 30));
        byte[] token = a.authenticate("demo", "admin", apiKey.getBytes(StandardCharsets.US_ASCII), "127.0.0.1");
        JsonNode json = JSON.readTree(token);
        for (String part : new String[] {"protected", "payload", "signature"}) {
            String v = json.get(part).asText();
            assertTrue(part + " is URL-safe base64 with padding", v.matches("[A-Za-z0-9_-]+=*") && v.length() % 4 == 0);
        }
        String payload = new String(Base64.getUrlDecoder().decode(json.get("payload").asText()), StandardCharsets.UTF_8);
        assertTrue(payload, payload.matches("\\{\"iat\":\\d+,\"sub\":\"admin\",\"exp\":\\d+}"));
        JsonNode claims = JSON.readTree(payload);
        assertEquals(480, claims.get("exp").asLong() - claims.get("iat").asLong());
        JsonNode prot = JSON.readTree(Base64.getUrlDecoder().decode(json.get("protected").asText()));
        assertEquals("EdDSA", prot.get("alg").asText());
        assertEquals(64, prot.get("kid").asText().length());

        Identity id = t.verify(header(token));
        assertEquals("demo", id.account());
        assertEquals("admin", id.login());
        assertEquals("demo:user:admin", id.roleId());
        // A fresh verifier (another node, cold cache) verifies it too, from the replicated public key.
        assertEquals("demo:user:admin", tokens(Clock.systemUTC()).verify(header(token)).roleId());
        // Login with the API key as the password gives the API key back; user/admin is the same login.
        assertArrayEquals(apiKey.getBytes(StandardCharsets.US_ASCII), a.login("demo", "admin", apiKey.toCharArray(), "127.0.0.1"));
        a.authenticate("demo", "user/admin", (apiKey + "\n").getBytes(StandardCharsets.US_ASCII), "10.0.0.1");
    }

    @Test
    public void aDeletedAccountsTokensStopVerifyingAndARecreatedAccountDoesNotInheritThem() {
        AccountManager accounts = new AccountManager(db, keys, db.changeLog());
        String key = accounts.create("gone");
        SigningKeys signing = new SigningKeys(db);
        TokenService t = new TokenService(signing, keys, Clock.systemUTC());
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, t, config(10, 30));
        String old = header(a.authenticate("gone", "admin", key.getBytes(StandardCharsets.US_ASCII), "127.0.0.1"));
        assertEquals("gone:user:admin", t.verify(old).roleId());
        assertTrue(accounts.delete("gone"));
        assertFalse(accounts.delete("gone"));
        String newKey = accounts.create("gone");
        signing.refresh();
        assertRejected(t, old, "Unauthorized: Invalid token");
        assertRejected(tokens(Clock.systemUTC()), old, "Unauthorized: Invalid token");
        String fresh = header(a.authenticate("gone", "admin", newKey.getBytes(StandardCharsets.US_ASCII), "127.0.0.1"));
        assertEquals("gone:user:admin", t.verify(fresh).roleId());
    }

    /**
     * Credential rows are cached per generation: a deleted (or rotated) credential stops working as soon as the
     * generation moves — at once on the node that wrote it, within the change watcher's period on the others.
     */
    @Test
    public void cachedCredentialsLastOnlyForTheirGeneration() throws Exception {
        AccountManager accounts = new AccountManager(db, keys, db.changeLog());
        String key = accounts.create("cached");
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, tokens(Clock.systemUTC()), config(100, 100));
        java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();
        java.lang.reflect.Field f = ApiKeyAuthenticator.class.getDeclaredField("changes");
        f.setAccessible(true);
        f.set(a, new io.coffer.api.store.Changes() {
            public long generation() { return generation.get(); }
            public void invalidate() { generation.incrementAndGet(); }
            public io.coffer.api.store.Position applied() { return null; }
        });
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        a.authenticate("cached", "admin", k, "127.0.0.1");
        assertTrue(accounts.delete("cached"));
        // Same generation: the row read before the delete still answers (the window the watcher bounds).
        a.authenticate("cached", "admin", k, "127.0.0.1");
        generation.incrementAndGet();
        try {
            a.authenticate("cached", "admin", k, "127.0.0.1");
            fail("a deleted credential authenticated after the generation moved");
        } catch (io.coffer.api.authn.AuthnException expected) {
            assertEquals(401, expected.status());
        }
        // An unknown role is remembered as absent too, and found once it exists (after the generation moves).
        String again = accounts.create("cached");
        generation.incrementAndGet();
        a.authenticate("cached", "admin", again.getBytes(StandardCharsets.US_ASCII), "127.0.0.1");
    }

    @Test
    public void everyBadCredentialIsTheSame401() {
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, tokens(Clock.systemUTC()), config(100, 100));
        String[][] cases = {{"demo", "admin", "wrong"}, {"demo", "nobody", apiKey}, {"other", "admin", apiKey},
            {"demo", "host/admin", apiKey}, {"demo", "admin", ""}};
        for (String[] c : cases) {
            try {
                a.authenticate(c[0], c[1], c[2].getBytes(StandardCharsets.US_ASCII), "127.0.0.1");
                fail("authenticated " + String.join(",", c[0], c[1]));
            } catch (AuthnException e) {
                assertEquals(401, e.status());
                assertEquals("", e.getMessage());
            }
        }
    }

    @Test
    public void repeatedFailuresAreThrottledBeforeAnyCheck() {
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, tokens(Clock.systemUTC()), config(3, 100));
        for (int i = 0; i < 3; i++) {
            try {
                a.authenticate("demo", "admin", "wrong".getBytes(StandardCharsets.US_ASCII), "10.9.9.9");
                fail("wrong key accepted");
            } catch (AuthnException e) {
                assertEquals(401, e.status());
            }
        }
        try {
            // Even the right key is refused while the role is throttled: the check never runs.
            a.authenticate("demo", "admin", apiKey.getBytes(StandardCharsets.US_ASCII), "10.9.9.9");
            fail("throttled role authenticated");
        } catch (AuthnException e) {
            assertEquals(429, e.status());
            assertTrue(e.retryAfterSeconds() > 0);
        }
        // Per client too: another address hammering different roles.
        ApiKeyAuthenticator b = new ApiKeyAuthenticator(db, keys, tokens(Clock.systemUTC()), config(100, 2));
        for (String login : new String[] {"u1", "u2"}) {
            try {
                b.authenticate("demo", login, "x".getBytes(StandardCharsets.US_ASCII), "10.8.8.8");
            } catch (AuthnException e) {
                assertEquals(401, e.status());
            }
        }
        try {
            b.authenticate("demo", "admin", apiKey.getBytes(StandardCharsets.US_ASCII), "10.8.8.8");
            fail("throttled client authenticated");
        } catch (AuthnException e) {
            assertEquals(429, e.status());
        }
        b.authenticate("demo", "admin", apiKey.getBytes(StandardCharsets.US_ASCII), "10.8.8.9");
    }

    @Test
    public void basicAuthNamesTheRole() {
        ApiKeyAuthenticator a = new ApiKeyAuthenticator(db, keys, tokens(Clock.systemUTC()), config(100, 100));
        String header = "Basic " + Base64.getEncoder().encodeToString(("admin:" + apiKey).getBytes(StandardCharsets.UTF_8));
        assertEquals("demo:user:admin", a.verify("demo", header, "127.0.0.1"));
        for (String bad : new String[] {null, "Token token=\"x\"", "Basic !!!", "Basic "
                + Base64.getEncoder().encodeToString("admin".getBytes(StandardCharsets.UTF_8))}) {
            try {
                a.verify("demo", bad, "127.0.0.1");
                fail("accepted " + bad);
            } catch (AuthnException e) {
                assertEquals(401, e.status());
            }
        }
    }

    @Test
    public void badTokensAreRejectedWithConjursMessages() throws Exception {
        TokenService t = tokens(Clock.systemUTC());
        byte[] good = t.issue("demo", "admin");
        assertRejected(t, null, "Authorization missing");
        assertRejected(t, "Basic abc", "Authorization missing");
        assertRejected(t, "Token token=\"!!!notbase64\"", "Malformed authorization token");
        assertRejected(t, "Token token=\"" + Base64.getEncoder().encodeToString("{}".getBytes()) + "\"",
                "Malformed authorization token");
        // Tampered payload: a different subject under the same signature.
        JsonNode json = JSON.readTree(good);
        String forged = "{\"protected\":\"" + json.get("protected").asText() + "\",\"payload\":\""
                + Base64.getUrlEncoder().encodeToString("{\"iat\":1,\"sub\":\"host/evil\",\"exp\":99999999999}".getBytes())
                + "\",\"signature\":\"" + json.get("signature").asText() + "\"}";
        assertRejected(t, header(forged.getBytes()), "Unauthorized: Invalid token");
        // Expired: verified by a clock 9 minutes later.
        TokenService later = tokens(Clock.fixed(Instant.now().plusSeconds(540), ZoneOffset.UTC));
        assertRejected(later, header(good), "Unauthorized: Invalid token");
        assertFalse(header(good).isEmpty());
        // Correctly signed, but with a claim outside iat/exp/sub/cidr/iss/aud/jti.
        String prot = json.get("protected").asText();
        String payload = Base64.getUrlEncoder().encodeToString(("{\"iat\":" + Instant.now().getEpochSecond()
                + ",\"sub\":\"admin\",\"exp\":99999999999,\"role\":\"root\"}").getBytes(StandardCharsets.UTF_8));
        byte[] sig = Ed25519Keys.sign(new SigningKeys(db).forAccount("demo").get().privateKey(keys),
                (prot + "." + payload).getBytes(StandardCharsets.US_ASCII));
        String extra = "{\"protected\":\"" + prot + "\",\"payload\":\"" + payload + "\",\"signature\":\""
                + Base64.getUrlEncoder().encodeToString(sig) + "\"}";
        assertRejected(t, header(extra.getBytes(StandardCharsets.UTF_8)), "Unauthorized: Invalid token");
    }

    private static void assertRejected(TokenService t, String header, String message) {
        try {
            t.verify(header);
            fail("accepted " + header);
        } catch (AuthnException e) {
            assertEquals(401, e.status());
            assertEquals(message, e.getMessage());
        }
    }
}
