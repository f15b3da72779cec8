package io.coffer.blackbox;

import static io.coffer.blackbox.Api.ACCOUNT;
import static io.coffer.blackbox.Api.admin;
import static io.coffer.blackbox.Api.apiKey;
import static io.coffer.blackbox.Api.enc;
import static io.coffer.blackbox.Api.load;
import static io.coffer.blackbox.Api.sendFrom;
import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.ClassRule;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Issue 7 item 6: the client address comes from the socket, and from X-Forwarded-For only through a configured
 * trusted proxy. 127.0.0.2 is made a trusted proxy the way an operator would (a .cfg in the node's etc); 127.0.0.3
 * stays untrusted. Checked where the address is used: /whoami, audit events (the JAX-RS path and the warm read
 * before JAX-RS), and restricted_to.
 */
public class ClientIpIT {
    /** Every request of this class has the audit events conjur-api §6 prescribes (issue 7). */
    @ClassRule
    public static final AuditLedger AUDIT = new AuditLedger();
    static final String PROXY = "127.0.0.2";
    static final String STRANGER = "127.0.0.3";
    private static Path cfg;
    private static String original;
    private static String ns;
    private static String hostKey;

    @BeforeClass
    public static void trustedProxy() throws Exception {
        ns = Api.namespace("clientip");
        JsonNode loaded = load("POST", "root", String.join("\n",
                "- !policy",
                "  id: " + ns,
                "  body:",
                "  - !host { id: gated, restricted_to: [ 203.0.113.0/24 ] }",
                "  - !variable v",
                "  - !permit { role: !host gated, privileges: [ read, execute ], resource: !variable v }", ""));
        hostKey = apiKey(loaded, "host:" + ns + "/gated");
        Api.setSecret(ns + "/v", "value-" + UUID.randomUUID());
        cfg = Path.of(Api.env("COFFER_DIR"), "etc", "io.coffer.rest.clientip.cfg");
        // The launcher's own settings (proxy.port) stay; the trust is added, and taken back afterwards.
        original = Files.exists(cfg) ? Files.readString(cfg, StandardCharsets.UTF_8) : null;
        Files.writeString(cfg, (original == null ? "" : original.replaceAll("(?m)^trusted\\..*\n?", ""))
                + "trusted.proxies = " + PROXY + "\ntrusted.balancers = " + PROXY + "\n", StandardCharsets.UTF_8);
        // Felix fileinstall picks the file up within seconds; wait until the proxy is believed.
        long deadline = System.currentTimeMillis() + 30_000;
        String seen = null;
        while (System.currentTimeMillis() < deadline) {
            seen = whoami(PROXY, "203.0.113.77").json().path("client_ip").asText();
            if (seen.equals("203.0.113.77")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("io.coffer.rest.clientip was not applied within 30 s; whoami says " + seen);
    }

    @AfterClass
    public static void untrust() throws Exception {
        if (cfg != null && original != null) {
            Files.writeString(cfg, original, StandardCharsets.UTF_8);
        } else if (cfg != null) {
            Files.deleteIfExists(cfg);
        }
    }

    private static Api.Raw whoami(String from, String forwardedFor, String... more) {
        String[] h = new String[4 + more.length];
        h[0] = "Authorization";
        h[1] = admin();
        h[2] = "X-Forwarded-For";
        h[3] = forwardedFor;
        System.arraycopy(more, 0, h, 4, more.length);
        return sendFrom(from, "GET", "/whoami", null, h);
    }

    /** The recorded client address of the one event of a request, from /audit. */
    static String auditedIp(String requestId) {
        JsonNode events = AuditIT.events(requestId, 1);
        return events.get(0).path("sdata").path("client@43868").path("ip").asText();
    }

    /** The load balancer's listener: a PROXY v2 header is believed from a trusted balancer only. */
    @Test
    public void aTrustedBalancersProxyHeaderNamesTheClientAndNobodyElses() throws Exception {
        Api.Raw trusted = Api.sendViaProxyProtocol(PROXY, "198.51.100.9", "GET", "/whoami", "Authorization", admin());
        assertEquals(200, trusted.status);
        assertEquals("198.51.100.9", trusted.json().path("client_ip").asText());
        Api.Raw stranger = Api.sendViaProxyProtocol(STRANGER, "198.51.100.9", "GET", "/whoami", "Authorization",
                admin());
        assertEquals(STRANGER, stranger.json().path("client_ip").asText());
    }

    @Test
    public void anUntrustedPeerCannotSpoofItsAddress() {
        String rid = "cip-" + UUID.randomUUID();
        Api.Raw r = whoami(STRANGER, "203.0.113.9", "X-Request-Id", rid);
        assertEquals(r.toString(), 200, r.status);
        assertEquals(STRANGER, r.json().path("client_ip").asText());
        assertEquals(STRANGER, auditedIp(rid));
    }

    @Test
    public void aTrustedProxysForwardedAddressIsTheClient() {
        String rid = "cip-" + UUID.randomUUID();
        // The client prepended a spoofed hop; the proxy appended the address it saw.
        Api.Raw r = whoami(PROXY, "198.51.100.1, 203.0.113.7", "X-Request-Id", rid);
        assertEquals(r.toString(), 200, r.status);
        assertEquals("203.0.113.7", r.json().path("client_ip").asText());
        assertEquals("203.0.113.7", auditedIp(rid));
    }

    @Test
    public void anUnparsableForwardedEntryIsNeverBelieved() {
        assertEquals(PROXY, whoami(PROXY, "not-an-address").json().path("client_ip").asText());
        assertEquals(PROXY, whoami(PROXY, "203.0.113.7:8080").json().path("client_ip").asText());
    }

    @Test
    public void theWarmReadBeforeJaxRsAuditsTheSameAddress() {
        String rid = "cip-" + UUID.randomUUID();
        String path = "/secrets/" + ACCOUNT + "/variable/" + enc(ns + "/v");
        sendFrom(PROXY, "GET", path, null, "Authorization", admin()); // warm the cache
        Api.Raw r = sendFrom(PROXY, "GET", path, null, "Authorization", admin(), "X-Forwarded-For", "203.0.113.8",
                "X-Request-Id", rid);
        assertEquals(r.toString(), 200, r.status);
        assertEquals("203.0.113.8", auditedIp(rid));
    }

    @Test
    public void restrictedToSeesTheDecidedAddress() {
        String path = "/authn/" + ACCOUNT + "/" + enc("host/" + ns + "/gated") + "/authenticate";
        byte[] key = hostKey.getBytes(StandardCharsets.UTF_8);
        assertEquals("forwarded by the trusted proxy from inside 203.0.113.0/24", 200,
                sendFrom(PROXY, "POST", path, key, "X-Forwarded-For", "203.0.113.5").status);
        assertEquals("the same header from an untrusted peer", 401,
                sendFrom(STRANGER, "POST", path, key, "X-Forwarded-For", "203.0.113.5").status);
        assertEquals("the proxy itself is outside", 401, sendFrom(PROXY, "POST", path, key).status);
    }
}
