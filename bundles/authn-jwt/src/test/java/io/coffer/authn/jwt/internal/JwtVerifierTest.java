package io.coffer.authn.jwt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.BeforeClass;
import org.junit.Test;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

/** Algorithm, key and claim rules, with RSA keys made by the JDK and no network. */
public class JwtVerifierTest {
    private static final String ISS = "https://issuer.example";
    private static Jwts issuer;
    private static Jwts other;
    private static ServiceConfig cfg;

    @BeforeClass
    public static void keys() throws Exception {
        issuer = new Jwts("k1", 2048);
        other = new Jwts("k2", 2048);
        cfg = config(Map.of("public-keys", Jwts.publicKeys(issuer), "issuer", ISS));
    }

    static ServiceConfig config(Map<String, String> values) {
        ServiceConfig c = ServiceConfig.parse("acme", "ci", true, true, values);
        assertNull(c.error(), c.error());
        return c;
    }

    private static JwtVerifier verifier() {
        return new JwtVerifier(Clock.systemUTC(), 0);
    }

    private static Map<String, Object> verify(String jwt) throws JwtVerifier.Rejected {
        return verifier().verify(jwt, cfg, unknownKid -> cfg.publicKeys);
    }

    private static void assertRejected(String why, String jwt) {
        try {
            verify(jwt);
            fail(why + ": accepted");
        } catch (JwtVerifier.Rejected e) {
            assertFalse(why, e.expired);
        }
    }

    @Test
    public void rsaSignaturesOfTheConfiguredKeyAreAccepted() throws Exception {
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512)) {
            Map<String, Object> claims = verify(issuer.sign(alg, Jwts.claims(ISS, Map.of("sub", "builder")).build()));
            assertEquals(alg.getName(), "builder", claims.get("sub"));
        }
    }

    @Test
    public void algorithmConfusionIsRefused() throws Exception {
        JWTClaimsSet claims = Jwts.claims(ISS, Map.of("sub", "builder")).build();
        // HS256 keyed with the public key's bytes: what a verifier trusting the header's alg would accept.
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(), claims);
        hs.sign(new MACSigner(issuer.pair.getPublic().getEncoded()));
        assertRejected("HS256", hs.serialize());
        assertRejected("alg none", new PlainJWT(new PlainHeader(), claims).serialize());
        String unsigned = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes())
                + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(claims.toString().getBytes()) + ".e30";
        assertRejected("alg none with a signature part", unsigned);
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        SignedJWT es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims);
        es.sign(new ECDSASigner((ECPrivateKey) ec.generateKeyPair().getPrivate()));
        assertRejected("ES256", es.serialize());
        SignedJWT ps = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.PS256).keyID("k1").build(), claims);
        ps.sign(new RSASSASigner(issuer.pair.getPrivate()));
        assertRejected("PS256 (not one of Conjur's algorithms)", ps.serialize());
    }

    @Test
    public void onlyTheConfiguredKeysOfSufficientSizeVerify() throws Exception {
        JWTClaimsSet claims = Jwts.claims(ISS, Map.of("sub", "builder")).build();
        assertRejected("another issuer's key", other.sign(claims));
        Jwts imposter = new Jwts("k1", 2048);
        assertRejected("another key under the configured kid", imposter.sign(claims));
        Jwts weak = new Jwts("weak", 1024);
        ServiceConfig weakCfg = config(Map.of("public-keys", Jwts.publicKeys(weak), "issuer", ISS));
        try {
            verifier().verify(weak.signWithJdk(claims), weakCfg, unknownKid -> weakCfg.publicKeys);
            fail("a 1024-bit key verified");
        } catch (JwtVerifier.Rejected expected) {
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("CONJ00015E"));
        }
        String[] parts = issuer.sign(claims).split("\\.");
        JWTClaimsSet forged = Jwts.claims(ISS, Map.of("sub", "admin")).build();
        assertRejected("a payload swapped under a valid signature", parts[0] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(forged.toString().getBytes()) + "." + parts[2]);
        SignedJWT crit = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1")
                .criticalParams(java.util.Set.of("x-unknown")).customParam("x-unknown", 1).build(), claims);
        crit.sign(new RSASSASigner(issuer.pair.getPrivate()));
        assertRejected("an unknown critical header", crit.serialize());
    }

    @Test
    public void unknownKidAsksTheSourceToRefreshAndNoKidTriesEveryKey() throws Exception {
        JWTClaimsSet claims = Jwts.claims(ISS, Map.of("sub", "builder")).build();
        AtomicInteger refreshes = new AtomicInteger();
        JWKSet before = Jwts.set(other);
        JWKSet after = Jwts.set(other, issuer);
        Map<String, Object> ok = verifier().verify(issuer.sign(claims), cfg, unknownKid -> {
            if (unknownKid) {
                refreshes.incrementAndGet();
                return after;
            }
            return before;
        });
        assertEquals("builder", ok.get("sub"));
        assertEquals(1, refreshes.get());
        Jwts anonymous = new Jwts(null, 2048);
        ServiceConfig two = config(Map.of("public-keys", Jwts.publicKeys(other, anonymous), "issuer", ISS));
        assertEquals("builder", verifier().verify(anonymous.sign(claims), two, unknownKid -> two.publicKeys).get("sub"));
    }

    @Test
    public void expIsMandatoryAndTimesAreChecked() throws Exception {
        assertRejected("no exp", issuer.sign(new JWTClaimsSet.Builder().issuer(ISS).subject("builder").build()));
        try {
            verify(issuer.sign(Jwts.claims(ISS, Map.of()).expirationTime(Date.from(Instant.now().minusSeconds(5)))
                    .build()));
            fail("expired token accepted");
        } catch (JwtVerifier.Rejected e) {
            assertTrue("expired is told apart", e.expired);
            assertEquals(JwtAuthenticator.EXPIRED, e.getMessage());
        }
        assertRejected("nbf in the future", issuer.sign(Jwts.claims(ISS, Map.of())
                .notBeforeTime(Date.from(Instant.now().plusSeconds(60))).build()));
        // Within the configured skew, a token that just expired still passes.
        String justExpired = issuer.sign(Jwts.claims(ISS, Map.of()).expirationTime(Date.from(Instant.now()
                .minusSeconds(5))).build());
        new JwtVerifier(Clock.fixed(Instant.now(), ZoneOffset.UTC), 30).verify(justExpired, cfg, u -> cfg.publicKeys);
    }

    @Test
    public void issuerAndAudienceAreCheckedWhenConfigured() throws Exception {
        assertRejected("wrong iss", issuer.sign(Jwts.claims("https://evil.example", Map.of()).build()));
        assertRejected("no iss", issuer.sign(Jwts.claims(null, Map.of()).build()));
        ServiceConfig aud = config(Map.of("public-keys", Jwts.publicKeys(issuer), "issuer", ISS, "audience", "coffer"));
        JwtVerifier v = verifier();
        v.verify(issuer.sign(Jwts.claims(ISS, Map.of()).audience(List.of("x", "coffer")).build()), aud,
                u -> aud.publicKeys);
        for (JWTClaimsSet c : List.of(Jwts.claims(ISS, Map.of()).audience("other").build(),
                Jwts.claims(ISS, Map.of()).build())) {
            try {
                v.verify(issuer.sign(c), aud, u -> aud.publicKeys);
                fail("audience not checked");
            } catch (JwtVerifier.Rejected expected) {
                assertTrue(expected.getMessage().contains("aud"));
            }
        }
    }

    @Test
    public void configurationProblemsCarryConjursCodes() {
        String keys = Jwts.publicKeys(issuer);
        String[][] cases = {
            {"CONJ00122E", "issuer", ISS},
            {"CONJ00122E", "jwks-uri", "https://a.example/jwks", "public-keys", keys, "issuer", ISS},
            {"CONJ00122E", "provider-uri", "https://a.example"},
            {"CONJ00122E", "public-keys", keys},
            {"CONJ00080E", "jwks-uri", "http://a.example/jwks"},
            {"CONJ00121E", "public-keys", "{\"type\":\"pem\",\"value\":\"x\"}", "issuer", ISS},
            {"CONJ00120E", "public-keys", "{\"type\":\"jwks\",\"value\":{\"keys\":[{\"kty\":\"RSA\"}]}}", "issuer", ISS},
            {"CONJ00120E", "public-keys", "not json", "issuer", ISS},
            {"CONJ00037E", "jwks-uri", "https://a.example/jwks", "issuer", null},
            {"CONJ00117E", "jwks-uri", "https://a.example/jwks", "token-app-property", "a b"},
            {"CONJ00122E", "jwks-uri", "https://a.example/jwks", "ca-cert", "-----BEGIN CERTIFICATE-----\nAA==\n"},
            {"CONJ00122E", "jwks-uri", "https://a.example/jwks", "token-ttl", "8 minutes"},
            {"CONJ00108E", "jwks-uri", "https://a.example/jwks", "enforced-claims", "ref,ref"},
        };
        for (String[] c : cases) {
            Map<String, String> values = new java.util.LinkedHashMap<>();
            for (int i = 1; i + 1 < c.length; i += 2) {
                values.put(c[i], c[i + 1]);
            }
            String error = ServiceConfig.parse("acme", "ci", true, false, values).error();
            assertTrue(values + " → " + error, error != null && error.startsWith(c[0] + " "));
        }
        ServiceConfig ok = config(Map.of("jwks-uri", "https://a.example/jwks", "token-app-property", "sub",
                "identity-path", "/apps/ci/", "token-ttl", "PT1H", "claim-aliases", "branch:ref"));
        assertEquals("apps/ci", ok.identityPath);
        assertEquals(java.time.Duration.ofHours(1), ok.tokenTtl);
        assertEquals("ref", ok.aliases.get("branch"));
        assertNull("a missing webservice is not a parse error", ServiceConfig.parse("acme", "x", false, false,
                Map.of()).error());
    }
}
