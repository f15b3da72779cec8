package io.coffer.authn.jwt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

import com.nimbusds.jose.jwk.JWKSet;

/** JWKS over HTTPS from a JDK server on 127.0.0.1: trust, bounds, caching and the rate-limited refresh. */
public class JwksCacheTest {
    private static JwksServer server;
    private static List<X509Certificate> ca;
    private static Jwts k1;
    private static Jwts k2;

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        volatile long millis = 1_000_000;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    @BeforeClass
    public static void start() throws Exception {
        server = JwksServer.https();
        ServiceConfig cfg = ServiceConfig.parse("acme", "ci", true, true, Map.of("jwks-uri",
                server.uri("/jwks").toString(), "ca-cert", server.caPem));
        assertNull(cfg.error(), cfg.error());
        ca = cfg.caCerts;
        k1 = new Jwts("k1", 2048);
        k2 = new Jwts("k2", 2048);
    }

    @AfterClass
    public static void stop() {
        server.close();
    }

    @Before
    public void reset() {
        server.answer(200, Jwts.set(k1).toString());
        server.requests.set(0);
    }

    @Test
    public void fetchesOverHttpsTrustingOnlyTheCaCert() throws Exception {
        JWKSet keys = new JwksClient(2000, 65536).fetch(server.uri("/jwks"), ca);
        assertEquals("k1", keys.getKeys().get(0).getKeyID());
        assertTrue("only public keys", keys.getKeys().stream().noneMatch(k -> k.isPrivate()));
        assertFetchFails(new JwksClient(2000, 65536), List.of(), "PKIX");
        try (JwksServer plain = JwksServer.http()) {
            plain.answer(200, Jwts.set(k1).toString());
            try {
                new JwksClient(2000, 65536).fetch(plain.uri("/jwks"), List.of());
                fail("fetched over http");
            } catch (IOException expected) {
                assertEquals("only https is allowed", expected.getMessage());
                assertEquals(0, plain.requests.get());
            }
        }
    }

    @Test
    public void answersAreBoundedAndRedirectsNotFollowed() throws Exception {
        server.answer(200, "{\"keys\":[],\"pad\":\"" + "x".repeat(70_000) + "\"}");
        assertFetchFails(new JwksClient(2000, 65536), ca, "larger than");
        server.answer(ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 10_000; i++) {
                    out.write(new byte[1024]);
                }
            }
        });
        assertFetchFails(new JwksClient(2000, 65536), ca, "larger than");
        server.answer(ex -> {
            ex.getResponseHeaders().add("Location", "https://127.0.0.1:1/elsewhere");
            ex.sendResponseHeaders(302, -1);
        });
        assertFetchFails(new JwksClient(2000, 65536), ca, "HTTP 302");
        server.answer(200, "<html>not a jwks</html>");
        assertFetchFails(new JwksClient(2000, 65536), ca, "not a JWKS");
        server.answer(ex -> {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(500, -1);
        });
        long start = System.nanoTime();
        assertFetchFails(new JwksClient(300, 65536), ca, "");
        assertTrue("the read timeout bounds a silent server", System.nanoTime() - start < 2_500_000_000L);
    }

    @Test
    public void keysAreCachedAndAnUnknownKidRefreshesAtMostOncePerInterval() throws Exception {
        ManualClock clock = new ManualClock();
        JwksCache cache = new JwksCache(new JwksClient(2000, 65536), 600_000, 60_000, clock);
        cache.keys(server.uri("/jwks"), ca, server.caPem, false);
        cache.keys(server.uri("/jwks"), ca, server.caPem, false);
        assertEquals("cached", 1, server.requests.get());
        // The issuer rotates: the first unknown kid after the interval fetches, a flood of them doesn't.
        server.answer(200, Jwts.set(k1, k2).toString());
        for (int i = 0; i < 50; i++) {
            cache.keys(server.uri("/jwks"), ca, server.caPem, true);
        }
        assertEquals("no refresh within the interval of the first fetch", 1, server.requests.get());
        clock.millis += 60_000;
        for (int i = 0; i < 50; i++) {
            assertEquals(2, cache.keys(server.uri("/jwks"), ca, server.caPem, true).getKeys().size());
        }
        assertEquals("one refresh for fifty unknown kids", 2, server.requests.get());
        clock.millis += 600_000;
        cache.keys(server.uri("/jwks"), ca, server.caPem, false);
        assertEquals("refetched after the TTL", 3, server.requests.get());
    }

    @Test
    public void aFailingSourceKeepsItsKnownKeysAndIsNotHammered() throws Exception {
        ManualClock clock = new ManualClock();
        JwksCache cache = new JwksCache(new JwksClient(2000, 65536), 1_000, 60_000, clock);
        cache.keys(server.uri("/jwks"), ca, server.caPem, false);
        server.answer(503, "");
        clock.millis += 120_000;
        assertEquals("stale keys stay in use", "k1",
                cache.keys(server.uri("/jwks"), ca, server.caPem, false).getKeys().get(0).getKeyID());
        for (int i = 0; i < 20; i++) {
            cache.keys(server.uri("/jwks"), ca, server.caPem, true);
        }
        assertEquals(2, server.requests.get());
        JwksCache cold = new JwksCache(new JwksClient(2000, 65536), 1_000, 60_000, clock);
        for (int i = 0; i < 5; i++) {
            try {
                cold.keys(server.uri("/jwks"), ca, server.caPem, false);
                fail("no keys, yet an answer");
            } catch (IOException expected) {
                assertEquals("HTTP 503", expected.getMessage());
            }
        }
        assertEquals("a cold failing source is asked once per interval", 3, server.requests.get());
    }

    private static void assertFetchFails(JwksClient client, List<X509Certificate> anchors, String reason) {
        try {
            client.fetch(server.uri("/jwks"), anchors);
            fail("fetch succeeded; expected " + reason);
        } catch (IOException e) {
            String all = e + " " + e.getCause();
            assertTrue(all, all.contains(reason));
        }
    }
}
