package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.form;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.setSecret;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;

import org.junit.ClassRule;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * conjur-api §1.1, the JWT authenticator: the node runs the optional {@code coffer-authn-jwt} feature (tests/api.sh
 * installs it at run time). Keys come from the {@code public-keys} variable; the test is its own issuer (JDK RSA).
 */
public class JwtIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    private static final String ISS = "https://issuer.blackbox.test";
    private static String svc;
    private static KeyPair issuer;

    @BeforeClass
    public static void authenticator() throws Exception {
        svc = Api.namespace("jwt");
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        issuer = g.generateKeyPair();
        load("POST", "root", String.join("\n",
                "- !policy",
                "  id: conjur/authn-jwt/" + svc,
                "  body:",
                "  - !webservice",
                "  - !webservice status",
                "  - !variable public-keys",
                "  - !variable issuer",
                "  - !variable token-app-property",
                "  - !variable identity-path",
                "  - !group apps",
                "  - !permit { role: !group apps, privileges: [ read, authenticate ], resource: !webservice }",
                "- !policy",
                "  id: apps-" + svc,
                "  body:",
                "  - !host { id: builder, annotations: { authn-jwt/" + svc + "/project: coffer } }",
                "- !grant { role: !group conjur/authn-jwt/" + svc + "/apps, member: !host apps-" + svc + "/builder }",
                ""));
        String vars = "conjur/authn-jwt/" + svc + "/";
        setSecret(vars + "public-keys", "{\"type\":\"jwks\",\"value\":{\"keys\":[" + jwk() + "]}}");
        setSecret(vars + "issuer", ISS);
        setSecret(vars + "token-app-property", "sub");
        setSecret(vars + "identity-path", "apps-" + svc);
        assertEquals("not enabled yet", 401, authenticate(rs256(claims("\"project\":\"coffer\"", 300))).status);
        assertEquals(204, form("PATCH", path(), admin(), "enabled=true").status);
    }

    private static String path() {
        return "/authn-jwt/" + svc + "/" + ACCOUNT;
    }

    private static Api.Resp authenticate(String jwt, String... headers) {
        String[] all = Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "Content-Type";
        all[headers.length + 1] = "application/x-www-form-urlencoded";
        return Api.send("POST", path() + "/authenticate", jwt == null ? new byte[0]
                : ("jwt=" + jwt).getBytes(StandardCharsets.UTF_8), all);
    }

    @Test
    public void aSignedJwtBecomesAnAccessTokenOnceEnabled() throws Exception {
        String good = rs256(claims("\"project\":\"coffer\"", 300));
        assertEquals(403, form("PATCH", path(), Api.token("host/apps-" + svc + "/builder", hostKey()), "enabled=true")
                .status);
        assertEquals(422, form("PATCH", path(), admin(), "enabled=maybe").status);
        Api.Resp r = authenticate(good);
        assertEquals(r.toString(), 200, r.status);
        String token = "Token token=\"" + Base64.getEncoder().encodeToString(r.body) + "\"";
        assertEquals("host/apps-" + svc + "/builder", get("/whoami", token).json().get("username").asText());
        Api.Resp b64 = authenticate(good, "Accept-Encoding", "base64");
        assertEquals("base64", b64.header("Content-Encoding"));
        assertTrue(b64.text(), Api.JSON.readTree(Base64.getDecoder().decode(b64.text())).has("signature"));
        Api.Resp list = get("/authenticators", null);
        assertTrue(list.text(), list.json().get("configured").toString().contains("authn-jwt/" + svc));
        assertTrue(list.text(), list.json().get("enabled").toString().contains("authn-jwt/" + svc));
        Api.Resp status = get(path() + "/status", admin());
        assertEquals(status.toString(), 200, status.status);
        assertEquals("ok", status.json().get("status").asText());
    }

    @Test
    public void badJwtsAre401AndAMissingFieldIs400() throws Exception {
        assertEquals(400, authenticate(null).status);
        assertEquals(401, authenticate("not-a-jwt").status);
        assertEquals("wrong issuer", 401, authenticate(rs256(claims("\"project\":\"coffer\"", 300)
                .replace(ISS, "https://evil.test"))).status);
        assertEquals("annotated claim missing", 401, authenticate(rs256(claims("\"other\":\"x\"", 300))).status);
        assertEquals("annotated claim differs", 401, authenticate(rs256(claims("\"project\":\"evil\"", 300))).status);
        String header = b64("{\"alg\":\"none\",\"kid\":\"k1\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("alg none", 401, authenticate(header + "." + b64(claims("\"project\":\"coffer\"", 300)
                .getBytes(StandardCharsets.UTF_8)) + ".").status);
        Api.Resp expired = authenticate(rs256(claims("\"project\":\"coffer\"", -60)));
        assertEquals(401, expired.status);
        assertTrue("an expired JWT says so in JSON: " + expired, expired.code() != null);
        assertEquals("unknown service", 401, Api.send("POST", "/authn-jwt/no-such-" + svc + "/" + ACCOUNT
                + "/authenticate", ("jwt=" + rs256(claims("", 300))).getBytes(StandardCharsets.UTF_8), "Content-Type",
                "application/x-www-form-urlencoded").status);
    }

    private static String hostKey() {
        Api.Resp r = Api.send("PUT", "/authn/" + ACCOUNT + "/api_key?role=" + Api.q("host:apps-" + svc + "/builder"),
                null, "Authorization", admin());
        assertEquals(200, r.status);
        return r.text();
    }

    // ------------------------------------------------------------------- the test's own issuer, JDK only

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String unsigned(BigInteger i) {
        byte[] b = i.toByteArray();
        return b64(b[0] == 0 ? Arrays.copyOfRange(b, 1, b.length) : b);
    }

    private static String jwk() {
        RSAPublicKey k = (RSAPublicKey) issuer.getPublic();
        return "{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"" + unsigned(k.getModulus())
                + "\",\"e\":\"" + unsigned(k.getPublicExponent()) + "\"}";
    }

    private static String claims(String extra, long expiresIn) {
        long now = Instant.now().getEpochSecond();
        return "{\"iss\":\"" + ISS + "\",\"sub\":\"builder\",\"iat\":" + now + ",\"exp\":" + (now + expiresIn)
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    private static String rs256(String claims) throws Exception {
        String input = b64("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b64(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(issuer.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64(s.sign());
    }
}
