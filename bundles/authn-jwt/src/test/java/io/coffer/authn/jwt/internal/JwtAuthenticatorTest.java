package io.coffer.authn.jwt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.nimbusds.jwt.JWTClaimsSet;

import io.coffer.accounts.internal.AccountManager;
import io.coffer.api.authn.AuthnException;
import io.coffer.api.authn.Identity;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;
import io.coffer.authn.internal.TokenService;
import io.coffer.crypto.internal.Keyring;
import io.coffer.crypto.internal.TestKeys;
import io.coffer.store.internal.ChangeWatcher;
import io.coffer.store.internal.DbPermissions;
import io.coffer.store.internal.TestDatabase;

/**
 * authn-jwt end to end below HTTP: a real PostgreSQL with the rows a policy load writes, the real key hierarchy,
 * permission check and token service, and JWTs signed with JDK RSA keys (static public keys, or a JWKS served by a
 * JDK HTTPS server on 127.0.0.1).
 */
public class JwtAuthenticatorTest {
    private static final String ISS = "https://ci.example";
    private static TestDatabase db;
    private static Keyring keys;
    private static ChangeWatcher changes;
    private static Fixture f;
    private static Jwts ci;
    private static Jwts gh;
    private static JwksServer jwks;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        keys = TestKeys.keyring(db);
        new AccountManager(db, keys, db.changeLog()).create("acme");
        changes = new ChangeWatcher(db);
        f = new Fixture(db, keys, "acme");
        ci = new Jwts("ci-1", 2048);
        gh = new Jwts("gh-1", 2048);
        jwks = JwksServer.https();
        jwks.answer(200, Jwts.set(gh).toString());

        // conjur/authn-jwt/ci: static keys, identity from "sub" under apps/.
        f.service("ci", "public-keys", Jwts.publicKeys(ci), "issuer", ISS, "token-app-property", "sub",
                "identity-path", "apps");
        f.record("host:apps/builder");
        f.annotate("host:apps/builder", "authn-jwt/ci/project", "coffer");
        f.annotate("host:apps/builder", "authn-jwt/ci/run", "42");
        f.annotate("host:apps/builder", "authn-jwt/other/project", "ignored: another service");
        f.grant("group:conjur/authn-jwt/ci/apps", "host:apps/builder");
        f.record("host:apps/stranger");
        f.annotate("host:apps/stranger", "authn-jwt/ci/project", "coffer");
        f.record("host:apps/bare");
        f.grant("group:conjur/authn-jwt/ci/apps", "host:apps/bare");
        // conjur/authn-jwt/url: identity from the URL; enabled only by the node's configuration.
        f.service("url", "public-keys", Jwts.publicKeys(ci), "issuer", ISS);
        f.annotate("host:apps/builder", "authn-jwt/url/project", "coffer");
        f.grant("group:conjur/authn-jwt/url/apps", "host:apps/builder");
        // conjur/authn-jwt/gh: a JWKS over HTTPS, claim aliases and an enforced claim.
        f.service("gh", "jwks-uri", jwks.uri("/jwks").toString(), "ca-cert", jwks.caPem, "issuer", ISS,
                "token-app-property", "repository", "identity-path", "gh", "enforced-claims", "ref",
                "claim-aliases", "branch:ref");
        f.record("host:gh/org/repo");
        f.annotate("host:gh/org/repo", "authn-jwt/gh/branch", "main");
        f.grant("group:conjur/authn-jwt/gh/apps", "host:gh/org/repo");
        f.record("host:gh/org/loose");
        f.annotate("host:gh/org/loose", "authn-jwt/gh/repository_owner", "org");
        f.grant("group:conjur/authn-jwt/gh/apps", "host:gh/org/loose");
        f.service("broken", "jwks-uri", null);
        changes.invalidate();
    }

    @AfterClass
    public static void stop() throws Exception {
        jwks.close();
        db.close();
    }

    private static JwtAuthenticator authenticator(Database database, Changes ch, String authenticators, int failures) {
        JwtSettings settings = new JwtSettings(database, keys, ch, db.changeLog(), Fixture.enabled(authenticators));
        return new JwtAuthenticator(settings, new TokenService(database, keys), new DbPermissions(database, ch),
                Fixture.config(failures, failures), Clock.systemUTC());
    }

    private static String ciToken(Map<String, Object> claims) throws Exception {
        return ci.sign(Jwts.claims(ISS, claims).build());
    }

    private static void assertRejected(JwtAuthenticator a, String service, String login, String jwt) {
        try {
            a.authenticate(service, "acme", login, jwt, "127.0.0.1");
            fail("authenticated with " + service + "/" + login);
        } catch (AuthnException e) {
            assertEquals(401, e.status());
            assertEquals("", e.getMessage());
        }
    }

    private static String loginOf(byte[] token) throws Exception {
        Identity id = new TokenService(db, keys).verify("Token token=\""
                + Base64.getEncoder().encodeToString(token) + "\"");
        return id.login();
    }

    @Test
    public void identityFromTheTokenWithRestrictionsAndEnablementInTheDatabase() throws Exception {
        JwtAuthenticator a = authenticator(db, changes, "authn", 1000);
        JwtSettings settings = new JwtSettings(db, keys, changes, db.changeLog(), Fixture.enabled("authn"));
        String good = ciToken(Map.of("sub", "builder", "project", "coffer", "run", 42));
        assertRejected(a, "ci", null, good);
        settings.setEnabled("acme", "ci", true);
        assertEquals("host/apps/builder", loginOf(a.authenticate("ci", "acme", null, good, "127.0.0.1")));
        assertEquals("the generic entry: <service_id> as login", "host/apps/builder",
                loginOf(a.authenticate("acme", "ci", good.getBytes(), "127.0.0.1")));
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM change_log WHERE kind = 'authenticator-config' "
                        + "AND subject = 'acme:webservice:conjur/authn-jwt/ci'")) {
            rs.next();
            assertEquals("the write committed with its change-log row", 1, rs.getInt(1));
        }

        assertRejected(a, "ci", null, ciToken(Map.of("sub", "builder", "project", "other", "run", 42)));
        assertRejected(a, "ci", null, ciToken(Map.of("sub", "builder", "project", "coffer")));
        assertRejected(a, "ci", null, ciToken(Map.of("sub", "stranger", "project", "coffer")));
        assertRejected(a, "ci", null, ciToken(Map.of("sub", "bare", "project", "coffer")));
        assertRejected(a, "ci", null, ciToken(Map.of("sub", "nobody", "project", "coffer")));
        assertRejected(a, "ci", null, ciToken(Map.of("sub", 7, "project", "coffer", "run", 42)));
        assertRejected(a, "ci", null, ciToken(Map.of("project", "coffer", "run", 42)));
        assertRejected(a, "ci", "host/apps/builder", good);
        assertRejected(a, "ci", null, gh.sign(Jwts.claims(ISS, Map.of("sub", "builder", "project", "coffer",
                "run", 42)).build()));
        assertRejected(a, "nosuch", null, good);
        try {
            a.authenticate("ci", "acme", null, ci.sign(Jwts.claims(ISS, Map.of("sub", "builder", "project", "coffer",
                    "run", 42)).expirationTime(Date.from(Instant.now().minusSeconds(1))).build()), "127.0.0.1");
            fail("expired token accepted");
        } catch (AuthnException e) {
            assertEquals(401, e.status());
            assertEquals(JwtAuthenticator.EXPIRED, e.getMessage());
        }
        settings.setEnabled("acme", "ci", false);
        assertRejected(a, "ci", null, good);
    }

    @Test
    public void identityFromTheUrlAndEnablementByTheNodesConfiguration() throws Exception {
        String jwt = ciToken(Map.of("project", "coffer"));
        assertRejected(authenticator(db, changes, "authn", 1000), "url", "host/apps/builder", jwt);
        JwtAuthenticator a = authenticator(db, changes, "authn, authn-jwt/url", 1000);
        assertEquals("host/apps/builder", loginOf(a.authenticate("url", "acme", "host/apps/builder", jwt, "10.0.0.1")));
        assertEquals("host/apps/builder", loginOf(a.authenticate("acme", "url/host/apps/builder", jwt.getBytes(),
                "10.0.0.1")));
        assertRejected(a, "url", null, jwt);
        assertRejected(a, "url", "host/apps/stranger", jwt);
        assertRejected(a, "url", "admin", jwt);
        assertRejected(a, "url", "host/apps/builder\nforged log line", jwt);
        assertRejected(a, "url\n", "host/apps/builder", jwt);
    }

    @Test
    public void jwksOverHttpsWithAliasesAndEnforcedClaims() throws Exception {
        JwtAuthenticator a = authenticator(db, changes, "authn-jwt/gh", 1000);
        String jwt = gh.sign(Jwts.claims(ISS, Map.of("repository", "org/repo", "ref", "main")).build());
        assertEquals("host/gh/org/repo", loginOf(a.authenticate("gh", "acme", null, jwt, "127.0.0.1")));
        assertRejected(a, "gh", null, gh.sign(Jwts.claims(ISS, Map.of("repository", "org/repo", "ref", "dev"))
                .build()));
        assertRejected(a, "gh", null, gh.sign(Jwts.claims(ISS, Map.of("repository", "org/loose", "ref", "main",
                "repository_owner", "org")).build()));
        assertRejected(a, "gh", null, ci.sign(Jwts.claims(ISS, Map.of("repository", "org/repo", "ref", "main"))
                .build()));
        assertEquals(200, a.status("gh", "acme", "acme:user:admin").code());
    }

    @Test
    public void statusChecksInConjursOrder() throws Exception {
        JwtAuthenticator a = authenticator(db, changes, "authn-jwt/url,authn-jwt/broken", 1000);
        assertEquals(200, a.status("url", "acme", "acme:host:apps/builder").code());
        JwtAuthenticator.Status denied = a.status("url", "acme", "acme:host:apps/stranger");
        assertEquals(403, denied.code());
        assertTrue(denied.error(), denied.error().startsWith("CONJ00006E 'acme:host:apps/stranger' does not have 'read'"));
        JwtAuthenticator.Status off = a.status("ci", "acme", "acme:user:admin");
        assertEquals(500, off.code());
        assertEquals("CONJ00004E 'authn-jwt/ci' is not enabled", off.error());
        JwtAuthenticator.Status broken = a.status("broken", "acme", "acme:user:admin");
        assertEquals(500, broken.code());
        assertEquals("CONJ00037E Missing value for resource: acme:variable:conjur/authn-jwt/broken/jwks-uri",
                broken.error());
        JwtAuthenticator b = authenticator(db, changes, "authn-jwt/gh", 1000);
        jwks.answer(503, "");
        try {
            JwtAuthenticator.Status down = b.status("gh", "acme", "acme:user:admin");
            assertEquals(500, down.code());
            assertTrue(down.error(), down.error().startsWith("CONJ00087E Failed to fetch JWKS from 'https://127.0.0.1:")
                    && down.error().endsWith("Reason: 'HTTP 503'"));
        } finally {
            jwks.answer(200, Jwts.set(gh).toString());
        }
    }

    @Test
    public void failuresAreThrottledPerClientBeforeAnyCheck() throws Exception {
        JwtAuthenticator a = authenticator(db, changes, "authn-jwt/url", 3);
        String good = ciToken(Map.of("project", "coffer"));
        String forged = gh.sign(Jwts.claims(ISS, Map.of("project", "coffer")).build());
        for (int i = 0; i < 3; i++) {
            try {
                a.authenticate("url", "acme", "host/apps/nobody" + i, forged, "10.7.7.7");
                fail("forged token accepted");
            } catch (AuthnException e) {
                assertEquals(401, e.status());
            }
        }
        try {
            a.authenticate("url", "acme", "host/apps/builder", good, "10.7.7.7");
            fail("throttled client authenticated");
        } catch (AuthnException e) {
            assertEquals(429, e.status());
            assertTrue(e.retryAfterSeconds() > 0);
        }
        a.authenticate("url", "acme", "host/apps/builder", good, "10.7.7.8");
    }

    @Test
    public void aWarmAuthenticationReadsNoTableAndAChangeIsSeenAtOnce() throws Exception {
        Fixture.Counting counting = new Fixture.Counting(db);
        ChangeWatcher still = new ChangeWatcher(Fixture.unreachable());
        JwtAuthenticator a = authenticator(counting, still, "authn-jwt/url", 1000);
        String jwt = ciToken(Map.of("project", "coffer"));
        a.authenticate("url", "acme", "host/apps/builder", jwt, "127.0.0.1");
        int cold = counting.connections.get();
        assertTrue("the first authentication loads", cold > 0);
        for (int i = 0; i < 5; i++) {
            a.authenticate("url", "acme", "host/apps/builder", jwt, "127.0.0.1");
        }
        assertEquals("warm authentications open no connection", cold, counting.connections.get());
        f.secret("conjur/authn-jwt/url/issuer", "https://new-issuer.example");
        try {
            still.invalidate();
            assertRejected(a, "url", "host/apps/builder", jwt);
            assertEquals("host/apps/builder", loginOf(a.authenticate("url", "acme", "host/apps/builder",
                    ci.sign(Jwts.claims("https://new-issuer.example", Map.of("project", "coffer")).build()),
                    "127.0.0.1")));
        } finally {
            f.secret("conjur/authn-jwt/url/issuer", ISS);
            changes.invalidate();
        }
    }

    @Test
    public void formAndJsonBodies() {
        assertEquals("a.b.c", JwtResource.formField("x=1&jwt=a.b.c".getBytes(), "jwt"));
        assertEquals("", JwtResource.formField("jwt=".getBytes(), "jwt"));
        assertEquals(null, JwtResource.formField("jwtx=a".getBytes(), "jwt"));
        assertEquals(null, JwtResource.formField("jwt=%zz".getBytes(), "jwt"));
        assertEquals(Boolean.TRUE, JwtResource.enabledField("application/x-www-form-urlencoded", "enabled=true".getBytes()));
        assertEquals(Boolean.FALSE, JwtResource.enabledField(null, "{\"enabled\":false}".getBytes()));
        assertEquals(Boolean.TRUE, JwtResource.enabledField("application/json", "{\"enabled\":\"true\"}".getBytes()));
        for (String bad : new String[] {"", "enabled=yes", "{\"enabled\":1}", "{not json", "enabled"}) {
            assertEquals(bad, null, JwtResource.enabledField(null, bad.getBytes()));
        }
    }
}
