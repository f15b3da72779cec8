package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.get;
import static io.coffer.blackbox.Api.id;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.post;
import static io.coffer.blackbox.Api.q;
import static io.coffer.blackbox.Api.send;
import static io.coffer.blackbox.Api.setSecret;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.ClassRule;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** conjur-api §1.2 (secrets, batch, expirations) and §5 (versions, MIME). */
public class SecretsIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    private static String ns;
    private static String reader;
    private static String looker;

    @BeforeClass
    public static void policy() {
        ns = Api.namespace("secrets");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !variable plain",
                "  - !variable { id: cert, mime_type: application/x-pem-file }",
                "  - !variable binary",
                "  - !variable empty",
                "  - !variable versions",
                "  - !variable hidden",
                "  - !variable metadata-only",
                "  - !host reader",
                "  - !host looker",
                "  - !permit { role: !host reader, privileges: [ read, execute ], resources: [ !variable plain, "
                        + "!variable cert, !variable binary, !variable empty, !variable versions ] }",
                "  - !permit { role: !host reader, privileges: [ read ], resource: !variable metadata-only }",
                "  - !permit { role: !host looker, privileges: [ read ], resource: !variable plain }", ""));
        reader = Api.token("host/" + ns + "/reader", apiKey(loaded, "host:" + ns + "/reader"));
        looker = Api.token("host/" + ns + "/looker", apiKey(loaded, "host:" + ns + "/looker"));
        setSecret(ns + "/plain", "s3cr3t value");
        setSecret(ns + "/cert", "-----BEGIN CERTIFICATE-----");
        setSecret(ns + "/metadata-only", "not for reader");
        setSecret(ns + "/hidden", "not for anyone");
        Api.Resp bin = send("POST", "/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/binary"),
                new byte[] {0, (byte) 0xff, (byte) 0xfe, 10, 13, 0}, "Authorization", admin());
        assertEquals(201, bin.status);
    }

    private static String path(String variable) {
        return "/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/" + variable);
    }

    @Test
    public void getReturnsTheRawValueWithItsMimeType() {
        Api.Resp r = get(path("plain"), reader);
        assertEquals(200, r.status);
        assertEquals("s3cr3t value", r.text());
        assertEquals("application/octet-stream", r.header("Content-Type"));
        Api.Resp cert = get(path("cert"), reader);
        assertEquals("application/x-pem-file", cert.header("Content-Type"));
        assertArrayEquals(new byte[] {0, (byte) 0xff, (byte) 0xfe, 10, 13, 0}, get(path("binary"), reader).body);
        // The raw path form (literal slashes) reaches the same variable.
        assertEquals("s3cr3t value", get("/secrets/" + ACCOUNT + "/variable/" + ns + "/plain", reader).text());
    }

    /**
     * A successful read is audited exactly once, under the request id the client sent (the warm read answers before
     * JAX-RS routing, and must audit as the route does); a hostile id is replaced by a UUID.
     */
    @Test
    public void aReadIsAuditedOnceUnderItsRequestId() throws Exception {
        String rid = "bb-" + java.util.UUID.randomUUID();
        Api.Resp r = get(path("plain"), reader, "X-Request-Id", rid);
        assertEquals(200, r.status);
        assertEquals(rid, r.header("X-Request-Id"));
        java.nio.file.Path audit = java.nio.file.Path.of(Api.env("COFFER_DIR"), "data", "audit", "audit.json");
        long found = 0;
        for (int i = 0; i < 50 && found == 0; i++) {
            Thread.sleep(100);
            try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(audit)) {
                found = lines.filter(l -> l.contains("\"request_id\":\"" + rid + "\"")).peek(l -> {
                    assertTrue(l, l.contains("\"msgid\":\"fetch\"") && l.contains("\"result\":\"success\"")
                            && l.contains(ns + "/plain") && !l.contains("s3cr3t"));
                }).count();
            }
        }
        assertEquals(1, found);
        Api.Resp hostile = get(path("plain"), reader, "X-Request-Id", "two words");
        assertEquals(200, hostile.status);
        assertTrue(hostile.header("X-Request-Id"),
                hostile.header("X-Request-Id").matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    }

    @Test
    public void getErrorsFollowVisibility() {
        Api.Resp hidden = get(path("hidden"), reader);
        assertEquals(404, hidden.status);
        assertTrue(hidden.message(), hidden.message().startsWith("CONJ00076E"));
        Api.Resp noExecute = get(path("metadata-only"), reader);
        assertEquals(403, noExecute.status);
        assertEquals("", noExecute.text());
        Api.Resp empty = get(path("empty"), reader);
        assertEquals(404, empty.status);
        assertTrue(empty.message().contains("CONJ00076E"));
        assertEquals(404, get(path("no-such"), reader).status);
        assertEquals(401, get(path("plain"), null).status);
        assertEquals("Authorization missing", get(path("plain"), null).text());
    }

    @Test
    public void versionsAreKeptTwentyDeepAndIdenticalValuesMakeNoVersion() {
        for (int i = 1; i <= 22; i++) {
            setSecret(ns + "/versions", "v" + i);
        }
        setSecret(ns + "/versions", "v22");
        assertEquals("v22", get(path("versions"), reader).text());
        assertEquals("v22", get(path("versions") + "?version=22", reader).text());
        assertEquals("v3", get(path("versions") + "?version=3", reader).text());
        assertEquals(404, get(path("versions") + "?version=2", reader).status);
        assertEquals(404, get(path("versions") + "?version=23", reader).status);
        Api.Resp bad = get(path("versions") + "?version=abc", reader);
        assertEquals(422, bad.status);
        assertEquals("argument_error", bad.code());
        JsonNode shown = get("/resources/" + ACCOUNT + "/variable/" + enc(ns + "/versions"), admin()).json();
        assertEquals(20, shown.get("secrets").size());
        assertEquals(22, shown.get("secrets").get(19).get("version").asInt());
    }

    @Test
    public void writesNeedUpdateAndANonBlankValue() {
        Api.Resp blank = post(path("plain"), admin(), " \n\t ");
        assertEquals(422, blank.status);
        assertEquals("argument_error", blank.code());
        assertEquals("'value' may not be empty", blank.message());
        assertEquals(422, post(path("plain"), admin(), "").status);
        assertEquals(403, post(path("plain"), reader, "x").status);
        assertEquals(404, post(path("hidden"), reader, "x").status);
        assertEquals(404, post("/secrets/" + ACCOUNT + "/group/" + enc(ns + "/x"), admin(), "x").status);
        assertEquals(201, post(path("plain"), admin(), "s3cr3t value").status);
    }

    @Test
    public void expirationsNeedUpdate() {
        Api.Resp r = post(path("plain") + "?expirations", admin(), null);
        assertEquals(201, r.status);
        assertEquals(403, post(path("plain") + "?expirations", reader, null).status);
        assertEquals("s3cr3t value", get(path("plain"), reader).text());
    }

    @Test
    public void batchReturnsEveryValueByFullId() {
        String ids = id("variable", ns + "/plain") + "," + id("variable", ns + "/cert");
        Api.Resp r = get("/secrets?variable_ids=" + q(ids), reader);
        assertEquals(r.toString(), 200, r.status);
        assertEquals("s3cr3t value", r.json().get(id("variable", ns + "/plain")).asText());
        assertEquals("-----BEGIN CERTIFICATE-----", r.json().get(id("variable", ns + "/cert")).asText());
    }

    @Test
    public void batchErrorsAreConjurs() {
        for (String ids : new String[] {"", ",,,", id("variable", ns + "/plain") + ",,"}) {
            Api.Resp r = get("/secrets?variable_ids=" + q(ids), reader);
            assertEquals(ids, 422, r.status);
            assertEquals("argument_error", r.code());
            assertEquals("variable_ids", r.message());
        }
        assertEquals(422, get("/secrets", reader).status);
        // Authorisation before existence: an invisible variable is 403 here, not 404.
        assertEquals(403, get("/secrets?variable_ids=" + q(id("variable", ns + "/hidden")), reader).status);
        assertEquals(403, get("/secrets?variable_ids=" + q(id("variable", ns + "/metadata-only")), reader).status);
        Api.Resp empty = get("/secrets?variable_ids=" + q(id("variable", ns + "/empty")), reader);
        assertEquals(404, empty.status);
        assertTrue(empty.message().startsWith("CONJ00076E Variable " + id("variable", ns + "/empty")));
        // Not UTF-8 without base64: 406.
        Api.Resp binary = get("/secrets?variable_ids=" + q(id("variable", ns + "/binary")), reader);
        assertEquals(406, binary.status);
        assertEquals("not_acceptable", binary.code());
    }

    @Test
    public void batchBase64IsExactHeaderMatchAndMimeEncoded() {
        String ids = id("variable", ns + "/binary") + "," + id("variable", ns + "/plain");
        Api.Resp r = get("/secrets?variable_ids=" + q(ids), reader, "Accept-Encoding", "Base64");
        assertEquals(r.toString(), 200, r.status);
        assertEquals("base64", r.header("Content-Encoding"));
        String plain = r.json().get(id("variable", ns + "/plain")).asText();
        assertTrue("MIME base64 ends with a newline", plain.endsWith("\n"));
        assertEquals("s3cr3t value", new String(Base64.getMimeDecoder().decode(plain), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {0, (byte) 0xff, (byte) 0xfe, 10, 13, 0},
                Base64.getMimeDecoder().decode(r.json().get(id("variable", ns + "/binary")).asText()));
        // A list containing base64 is not the exact header: 406 for the binary value.
        assertEquals(406, get("/secrets?variable_ids=" + q(ids), reader, "Accept-Encoding", "gzip, base64").status);
        // A long value is wrapped every 60 characters.
        setSecret(ns + "/plain", "x".repeat(100));
        String wrapped = get("/secrets?variable_ids=" + q(id("variable", ns + "/plain")), reader,
                "Accept-Encoding", "base64").json().get(id("variable", ns + "/plain")).asText();
        assertEquals(60, wrapped.indexOf('\n'));
        setSecret(ns + "/plain", "s3cr3t value");
    }

    @Test
    public void publicKeysServesUsersKeys() {
        String login = "keyed-" + ns;
        load("POST", "root", "- !user { id: " + login + ", public_keys: [ ssh-ed25519 AAAAC3Nza bb@example ] }\n");
        Api.Resp r = get("/public_keys/" + ACCOUNT + "/user/" + enc(login), null);
        assertEquals(200, r.status);
        assertEquals("ssh-ed25519 AAAAC3Nza bb@example\n", r.text());
        assertTrue(r.header("Content-Type").startsWith("text/plain"));
        assertEquals("", get("/public_keys/" + ACCOUNT + "/user/nobody-" + ns, null).text());
    }

    @Test
    public void lookerCanSeeButNotFetch() {
        assertEquals(403, get(path("plain"), looker).status);
        assertEquals(404, get(path("cert"), looker).status);
    }
}
