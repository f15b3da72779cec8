package io.coffer.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
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
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The JWT authenticator as an optional feature of a running Leader: installed at run time, configured by policy and
 * variables, enabled through the API (and by the node's configuration), exercised with signed and forged JWTs, then
 * uninstalled: its routes go, health stays, and no other bundle is stopped or refreshed on the way.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AuthnJwtIT extends CofferTestSupport {
    private static final String ISS = "https://ci.example";
    private static final String FORM = "application/x-www-form-urlencoded";

    @Inject
    BundleContext context;

    @Inject
    FeaturesService features;

    @Inject
    ConfigurationAdmin configAdmin;

    @Inject
    io.coffer.api.authn.Accounts accounts;

    @Configuration
    public Option[] config() {
        return boot(new Node(28643), "leader", 28103, 28399);
    }

    @Test
    public void installConfigureAuthenticateAndUninstallAtRunTime() throws Exception {
        HttpClient tls = tlsClient();
        String api = "https://127.0.0.1:" + apiPort();
        eventually("/health 200", () -> unchecked(tls, api + "/health"), r -> r.statusCode() == 200,
                Duration.ofSeconds(120));
        String admin = tokenHeader(tls, "jwt", "admin", accounts.create("jwt"));
        String authenticate = api + "/authn-jwt/ci/jwt/authenticate";
        assertEquals("no route before the feature", 404, post(tls, authenticate, "jwt=a.b.c").statusCode());

        List<String> stopped = new CopyOnWriteArrayList<>();
        SynchronousBundleListener watch = e -> {
            String bsn = String.valueOf(e.getBundle().getSymbolicName());
            if ((e.getType() == BundleEvent.STOPPED || e.getType() == BundleEvent.UNRESOLVED)
                    && !bsn.equals("io.coffer.authn.jwt") && !bsn.equals("com.nimbusds.nimbus-jose-jwt")) {
                stopped.add(bsn);
            }
        };
        context.addBundleListener(watch);
        try {
            features.installFeature("coffer-authn-jwt", EnumSet.noneOf(FeaturesService.Option.class));
            eventually("the authn-jwt routes answer", () -> uncheckedPost(tls, authenticate, ""),
                    r -> r.statusCode() == 400, Duration.ofSeconds(60));
            assertTrue(get(tls, api + "/authenticators").body().contains("\"installed\":[\"authn\",\"authn-jwt\"]"));
            exercise(tls, api, admin);
            features.uninstallFeature("coffer-authn-jwt", EnumSet.noneOf(FeaturesService.Option.class));
            eventually("the authn-jwt routes are gone", () -> uncheckedPost(tls, authenticate, "jwt=a.b.c"),
                    r -> r.statusCode() == 404, Duration.ofSeconds(60));
            assertEquals(200, get(tls, api + "/health").statusCode());
            eventually("authn-jwt no longer installed", () -> unchecked(tls, api + "/authenticators"),
                    r -> r.body().contains("\"installed\":[\"authn\"]"), Duration.ofSeconds(30));
        } finally {
            context.removeBundleListener(watch);
        }
        assertEquals("bundles stopped or refreshed by installing or removing coffer-authn-jwt", List.of(), stopped);
        for (Bundle b : context.getBundles()) {
            assertFalse("still installed: " + b.getSymbolicName(), "io.coffer.authn.jwt".equals(b.getSymbolicName()));
            if (String.valueOf(b.getSymbolicName()).startsWith("io.coffer.")) {
                assertEquals(b.getSymbolicName(), Bundle.ACTIVE, b.getState());
            }
        }
    }

    private void exercise(HttpClient tls, String api, String admin) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair issuer = g.generateKeyPair();
        String policy = String.join("\n",
                "- !policy",
                "  id: conjur/authn-jwt/ci",
                "  body:",
                "  - !webservice",
                "  - !webservice status",
                "  - !variable public-keys",
                "  - !variable issuer",
                "  - !variable token-app-property",
                "  - !variable identity-path",
                "  - !group apps",
                "  - !permit { role: !group apps, privileges: [ read, authenticate ], resource: !webservice }",
                "  - !permit { role: !group apps, privilege: read, resource: !webservice status }",
                "- !policy",
                "  id: apps",
                "  body:",
                "  - !host",
                "    id: builder",
                "    annotations:",
                "      authn-jwt/ci/project: coffer",
                "      authn-jwt/ci/ref: main",
                "- !grant { role: !group conjur/authn-jwt/ci/apps, member: !host apps/builder }", "");
        HttpResponse<String> load = send(tls, "POST", api + "/policies/jwt/policy/root", policy, "Authorization", admin);
        assertEquals(load.body(), 201, load.statusCode());
        String vars = api + "/secrets/jwt/variable/conjur%2Fauthn-jwt%2Fci%2F";
        setSecret(tls, vars + "public-keys", admin, "{\"type\":\"jwks\",\"value\":{\"keys\":[" + jwk(issuer) + "]}}");
        setSecret(tls, vars + "issuer", admin, ISS);
        setSecret(tls, vars + "token-app-property", admin, "sub");
        setSecret(tls, vars + "identity-path", admin, "apps");

        String authenticate = api + "/authn-jwt/ci/jwt/authenticate";
        String good = rs256(issuer, claims(ISS, "\"project\":\"coffer\",\"ref\":\"main\"", 300));
        assertEquals("not enabled yet", 401, post(tls, authenticate, "jwt=" + good).statusCode());
        String service = api + "/authn-jwt/ci/jwt";
        assertEquals(401, send(tls, "PATCH", service, "enabled=true", "Content-Type", FORM).statusCode());
        assertEquals(422, send(tls, "PATCH", service, "enabled=maybe", "Content-Type", FORM, "Authorization", admin)
                .statusCode());
        assertEquals(404, send(tls, "PATCH", api + "/authn-jwt/nosuch/jwt", "enabled=true", "Content-Type", FORM,
                "Authorization", admin).statusCode());
        assertEquals(204, send(tls, "PATCH", service, "enabled=true", "Content-Type", FORM, "Authorization", admin)
                .statusCode());
        String list = get(tls, api + "/authenticators").body();
        assertTrue(list, list.contains("\"configured\":[\"authn\",\"authn-jwt/ci\"]")
                && list.contains("\"enabled\":[\"authn\",\"authn-jwt/ci\"]"));
        HttpResponse<String> status = send(tls, "GET", service + "/status", null, "Authorization", admin);
        assertEquals(status.body(), 200, status.statusCode());
        assertEquals("{\"status\":\"ok\"}", status.body());

        HttpResponse<String> ok = post(tls, authenticate, "jwt=" + good);
        assertEquals(ok.body(), 200, ok.statusCode());
        String token = "Token token=\"" + Base64.getEncoder().encodeToString(ok.body().getBytes(StandardCharsets.UTF_8))
                + "\"";
        HttpResponse<String> who = send(tls, "GET", api + "/whoami", null, "Authorization", token);
        assertEquals(who.body(), 200, who.statusCode());
        assertTrue(who.body(), who.body().contains("\"username\":\"host/apps/builder\""));
        assertEquals("the host reads the status webservice", 200,
                send(tls, "GET", service + "/status", null, "Authorization", token).statusCode());
        assertEquals("read without update on the webservice", 403,
                send(tls, "PATCH", service, "enabled=false", "Content-Type", FORM, "Authorization", token).statusCode());
        HttpResponse<String> b64 = send(tls, "POST", authenticate, "jwt=" + good, "Content-Type", FORM,
                "Accept-Encoding", "gzip, BASE64");
        assertEquals("base64", b64.headers().firstValue("Content-Encoding").orElse(""));
        assertTrue(new String(Base64.getDecoder().decode(b64.body()), StandardCharsets.UTF_8).startsWith("{\"protected\""));

        HttpResponse<String> hs = post(tls, authenticate, "jwt=" + hs256(issuer.getPublic().getEncoded(),
                claims(ISS, "\"project\":\"coffer\",\"ref\":\"main\"", 300)));
        assertEquals("HS256 keyed with the public key", 401, hs.statusCode());
        assertEquals("", hs.body());
        assertEquals("wrong issuer", 401, post(tls, authenticate, "jwt=" + rs256(issuer,
                claims("https://evil.example", "\"project\":\"coffer\",\"ref\":\"main\"", 300))).statusCode());
        assertEquals("an annotated claim missing", 401, post(tls, authenticate, "jwt=" + rs256(issuer,
                claims(ISS, "\"project\":\"coffer\"", 300))).statusCode());
        HttpResponse<String> expired = post(tls, authenticate, "jwt=" + rs256(issuer,
                claims(ISS, "\"project\":\"coffer\",\"ref\":\"main\"", -60)));
        assertEquals(401, expired.statusCode());
        assertTrue(expired.body(), expired.body().contains("\"code\":\"unauthorized\"")
                && expired.body().contains("CONJ00016E Token expired"));
        HttpResponse<String> missing = post(tls, authenticate, "token=" + good);
        assertEquals(400, missing.statusCode());
        assertTrue(missing.body(), missing.body().contains("CONJ00077E"));
        assertEquals("not b64.b64.b64", 401, post(tls, authenticate, "jwt=not-a-jwt").statusCode());

        // Disabled in the database, then enabled by the node's configuration (CONJUR_AUTHENTICATORS).
        assertEquals(204, send(tls, "PATCH", service, "{\"enabled\":false}", "Content-Type", "application/json",
                "Authorization", admin).statusCode());
        assertEquals(401, post(tls, authenticate, "jwt=" + good).statusCode());
        org.osgi.service.cm.Configuration authn = configAdmin.getConfiguration("io.coffer.authn", "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("authenticators", "authn,authn-jwt/ci");
        authn.update(props);
        try {
            eventually("enabled by io.coffer.authn authenticators", () -> uncheckedPost(tls, authenticate,
                    "jwt=" + good), r -> r.statusCode() == 200, Duration.ofSeconds(30));
            assertTrue(get(tls, api + "/authenticators").body().contains("\"enabled\":[\"authn\",\"authn-jwt/ci\"]"));
        } finally {
            authn.delete();
        }
        eventually("disabled again without the key", () -> uncheckedPost(tls, authenticate, "jwt=" + good),
                r -> r.statusCode() == 401, Duration.ofSeconds(30));
    }

    private static void setSecret(HttpClient tls, String url, String auth, String value) throws Exception {
        HttpResponse<String> r = send(tls, "POST", url, value, "Authorization", auth);
        assertEquals(r.body(), 201, r.statusCode());
    }

    private static HttpResponse<String> post(HttpClient tls, String url, String form) throws Exception {
        return send(tls, "POST", url, form, "Content-Type", FORM);
    }

    private static HttpResponse<String> uncheckedPost(HttpClient tls, String url, String form) {
        try {
            return post(tls, url, form);
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        }
    }

    // ----------------------------------------------------------- a test issuer, with the JDK only (no JOSE bundle)
    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String unsigned(BigInteger i) {
        byte[] b = i.toByteArray();
        return b64(b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b);
    }

    private static String jwk(KeyPair pair) {
        RSAPublicKey k = (RSAPublicKey) pair.getPublic();
        return "{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"" + unsigned(k.getModulus())
                + "\",\"e\":\"" + unsigned(k.getPublicExponent()) + "\"}";
    }

    private static String claims(String iss, String extra, long expiresIn) {
        long now = Instant.now().getEpochSecond();
        return "{\"iss\":\"" + iss + "\",\"sub\":\"builder\",\"iat\":" + now + ",\"exp\":" + (now + expiresIn) + ","
                + extra + "}";
    }

    private static String rs256(KeyPair pair, String claims) throws Exception {
        String input = b64("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(pair.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64(s.sign());
    }

    private static String hs256(byte[] secret, String claims) throws Exception {
        String input = b64("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64(claims.getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }
}
