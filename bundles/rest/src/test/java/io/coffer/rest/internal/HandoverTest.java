package io.coffer.rest.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.jetty.client.ProxyProtocolClientConnectionFactory;
import org.junit.Test;

public class HandoverTest {

    @Test
    public void writesAreWhatChangesData() {
        assertTrue(Handover.isWrite("POST", "/secrets/demo/variable/x"));
        assertTrue(Handover.isWrite("PUT", "/policies/demo/policy/root"));
        assertTrue(Handover.isWrite("DELETE", "/host_factory_tokens/abc"));
        assertFalse(Handover.isWrite("GET", "/secrets/demo/variable/x"));
        assertFalse(Handover.isWrite("HEAD", "/resources/demo"));
        // Authentication is served by any node (Followers too): never held.
        assertFalse(Handover.isWrite("POST", "/authn/demo/admin/authenticate"));
        assertFalse(Handover.isWrite("POST", "/authn-jwt/svc/demo/authenticate"));
        assertTrue(Handover.isWrite("PUT", "/authn/demo/api_key"));
    }

    @Test
    public void theProxyHeaderNamesOnlyAnAddress() {
        assertEquals("10.1.2.3", Handover.proxyTag("10.1.2.3").getSourceAddress());
        assertEquals("::1", Handover.proxyTag("::1").getSourceAddress());
        assertEquals(ProxyProtocolClientConnectionFactory.V2.Tag.LOCAL, Handover.proxyTag("unknown"));
        assertEquals(ProxyProtocolClientConnectionFactory.V2.Tag.LOCAL, Handover.proxyTag(null));
        assertEquals(ProxyProtocolClientConnectionFactory.V2.Tag.LOCAL, Handover.proxyTag("evil.example"));
    }

    @Test
    public void aHoldWaitsForTheAdmittedWritesAndResumeLetsHeldOnesGo() throws Exception {
        Handover h = new Handover();
        // Nothing in flight: the hold is immediate.
        assertTrue(h.hold(10));
        h.resume();

        // A write admitted before the hold keeps it from draining until it ends.
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread running = new Thread(() -> h.wrap(m -> {
            inside.countDown();
            await(release);
        }).onMessage(message("POST", "/secrets/demo/variable/a")));
        running.start();
        assertTrue(inside.await(5, TimeUnit.SECONDS));
        assertFalse("a running write blocks the drain", h.hold(100));
        release.countDown();
        running.join(5000);
        assertTrue(h.hold(1000));

        // Held: a new write waits here, a read goes on.
        AtomicBoolean served = new AtomicBoolean();
        Thread held = new Thread(() -> h.wrap(m -> served.set(true)).onMessage(message("POST",
                "/secrets/demo/variable/b")));
        held.start();
        AtomicBoolean read = new AtomicBoolean();
        h.wrap(m -> read.set(true)).onMessage(message("GET", "/secrets/demo/variable/b"));
        assertTrue("reads are served while writes are held", read.get());
        Thread.sleep(200);
        assertFalse("the write waits", served.get());
        h.resume();
        held.join(5000);
        assertTrue("resumed, the held write proceeds", served.get());
    }

    @Test
    public void holdingAllHoldsReadsToo() throws Exception {
        Handover h = new Handover();
        assertTrue(h.hold(10));
        h.holdAll();
        AtomicBoolean read = new AtomicBoolean();
        Thread reader = new Thread(() -> h.wrap(m -> read.set(true)).onMessage(message("GET",
                "/secrets/demo/variable/b")));
        reader.start();
        Thread.sleep(200);
        assertFalse("the database is stopping: reads wait too", read.get());
        // Health is never held: the load balancer must keep seeing this node.
        AtomicBoolean health = new AtomicBoolean();
        h.wrap(m -> health.set(true)).onMessage(message("GET", "/health/leader"));
        assertTrue(health.get());
        h.resume();
        reader.join(5000);
        assertTrue(read.get());
    }

    @Test
    public void bodiesAreBounded() throws Exception {
        assertArrayEquals(new byte[] {1, 2}, Handover.readBody(request("POST", "/x", new byte[] {1, 2}, 2)));
        assertNull(Handover.readBody(request("POST", "/x", new byte[0], Handover.MAX_BODY + 1L)));
    }

    @Test
    public void itsOwnAnswersAreJsonAndCloseTheConnection() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.util.Map<String, Object> set = new java.util.HashMap<>();
        javax.servlet.http.HttpServletResponse response = (javax.servlet.http.HttpServletResponse) Proxy
                .newProxyInstance(HandoverTest.class.getClassLoader(),
                        new Class<?>[] {javax.servlet.http.HttpServletResponse.class}, (p, meth, args) -> {
                            switch (meth.getName()) {
                                case "getOutputStream":
                                    return new javax.servlet.ServletOutputStream() {
                                        @Override
                                        public void write(int b) {
                                            out.write(b);
                                        }

                                        @Override
                                        public boolean isReady() {
                                            return true;
                                        }

                                        @Override
                                        public void setWriteListener(javax.servlet.WriteListener l) {
                                        }
                                    };
                                case "setStatus":
                                case "setHeader":
                                    set.put(meth.getName() + (args.length > 1 ? ":" + args[0] : ""),
                                            args[args.length - 1]);
                                    return null;
                                default:
                                    return null;
                            }
                        });
        Handover.answer(response, 503, "not_leader", "a \"quoted\" \\ message");
        com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(out.toByteArray());
        assertEquals("not_leader", n.path("error").path("code").asText());
        assertEquals("a \"quoted\" \\ message", n.path("error").path("message").asText());
        assertEquals(503, set.get("setStatus"));
        assertEquals("close", set.get("setHeader:Connection"));
    }

    @Test
    public void aRelayedRequestIsCountedAsARelay() {
        org.apache.cxf.message.Message m = message("POST", "/secrets/demo/variable/a");
        m.put(Handover.RELAYED, Boolean.TRUE);
        assertEquals("relayed", new RequestMetrics(null, java.util.List.of(), () -> null).route(m,
                (javax.servlet.http.HttpServletRequest) m.get(
                        org.apache.cxf.transport.http.AbstractHTTPDestination.HTTP_REQUEST), "POST"));
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static org.apache.cxf.message.Message message(String method, String path) {
        org.apache.cxf.message.Message m = new org.apache.cxf.message.MessageImpl();
        m.put(org.apache.cxf.transport.http.AbstractHTTPDestination.HTTP_REQUEST, request(method, path, new byte[0], 0));
        m.put(org.apache.cxf.transport.http.AbstractHTTPDestination.HTTP_RESPONSE, Proxy.newProxyInstance(
                HandoverTest.class.getClassLoader(), new Class<?>[] {javax.servlet.http.HttpServletResponse.class},
                (p, meth, args) -> null));
        return m;
    }

    private static javax.servlet.http.HttpServletRequest request(String method, String path, byte[] body,
            long length) {
        java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(body);
        return (javax.servlet.http.HttpServletRequest) Proxy.newProxyInstance(HandoverTest.class.getClassLoader(),
                new Class<?>[] {javax.servlet.http.HttpServletRequest.class}, (p, meth, args) -> {
                    switch (meth.getName()) {
                        case "getMethod":
                            return method;
                        case "getRequestURI":
                            return path;
                        case "getContentLengthLong":
                            return length;
                        case "getInputStream":
                            return new javax.servlet.ServletInputStream() {
                                @Override
                                public int read() {
                                    return in.read();
                                }

                                @Override
                                public boolean isFinished() {
                                    return in.available() == 0;
                                }

                                @Override
                                public boolean isReady() {
                                    return true;
                                }

                                @Override
                                public void setReadListener(javax.servlet.ReadListener l) {
                                }
                            };
                        default:
                            return null;
                    }
                });
    }
}
