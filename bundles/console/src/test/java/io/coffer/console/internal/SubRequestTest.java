package io.coffer.console.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;

import org.junit.Test;

public class SubRequestTest {
    /** A browser request carrying a cookie, an Authorization header of its own and Coffer attributes. */
    private static HttpServletRequest browser(Map<String, Object> attributes) {
        return (HttpServletRequest) Proxy.newProxyInstance(SubRequestTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getHeader":
                            return "Host".equals(a[0]) ? "127.0.0.1:8443" : "Cookie".equals(a[0])
                                    ? "coffer_console=abc" : "Authorization".equals(a[0]) ? "Token token=\"evil\"" : null;
                        case "getRemoteAddr":
                            return "127.0.0.9";
                        case "getAttribute":
                            return attributes.get(a[0]);
                        case "getAttributeNames":
                            return Collections.enumeration(attributes.keySet());
                        case "setAttribute":
                            attributes.put((String) a[0], a[1]);
                            return null;
                        default:
                            return null;
                    }
                });
    }

    @Test
    public void theApiRequestCarriesOnlyTheConsolesHeadersAndNoCookie() {
        SubRequest.Inner r = new SubRequest.Inner(browser(new HashMap<>()), "GET", "a=1",
                Map.of("Authorization", "Token token=\"session\""), null);
        assertEquals("GET", r.getMethod());
        assertEquals("a=1", r.getQueryString());
        assertNull(r.getCookies());
        assertNull(r.getHeader("Cookie"));
        assertEquals("Token token=\"session\"", r.getHeader("authorization"));
        assertEquals("127.0.0.1:8443", r.getHeader("Host"));
        assertEquals("the browser's connection", "127.0.0.9", r.getRemoteAddr());
    }

    @Test
    public void attributesAreTheSubRequestsOwn() {
        Map<String, Object> outer = new HashMap<>();
        outer.put("coffer.identity", "someone");
        outer.put("javax.servlet.request.cipher_suite", "TLS_AES_128_GCM_SHA256");
        SubRequest.Inner first = new SubRequest.Inner(browser(outer), "GET", null, Map.of(), null);
        assertNull("no Coffer attribute is inherited", first.getAttribute("coffer.identity"));
        assertEquals("the connection's are", "TLS_AES_128_GCM_SHA256",
                first.getAttribute("javax.servlet.request.cipher_suite"));
        first.setAttribute("coffer.client-ip", "127.0.0.9");
        assertFalse("nothing leaks to the browser's request", outer.containsKey("coffer.client-ip"));
        SubRequest.Inner second = new SubRequest.Inner(browser(outer), "GET", null, Map.of(), null);
        assertNull(second.getAttribute("coffer.client-ip"));
    }

    @Test
    public void dotSegmentsAreRefusedAndSegmentsEncoded() {
        assertTrue(ConsoleServlet.hasDotSegment("/resources/demo/variable/../x"));
        assertTrue(ConsoleServlet.hasDotSegment("/resources/demo/%2e%2E/x"));
        assertFalse(ConsoleServlet.hasDotSegment("/resources/demo/variable/a..b%2F..%2Fc"));
        assertEquals("host%2Fapps%2Fa%20b%3C%3E", PathSegments.encode("host/apps/a b<>"));
    }
}
