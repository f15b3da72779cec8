package io.coffer.consoletest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/** What the browser can't be asked about: headers, cookie flags, CSRF refusals, and that the API ignores cookies. */
public class ConsoleHttpIT {
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    @Test
    public void everyConsolePageCarriesTheStrictPolicy() throws Exception {
        for (String page : new String[] {"/ui/", "/ui/app.js", "/ui/style.css", "/ui/no-such.js"}) {
            HttpResponse<String> r = Node.send(Node.request(page).GET());
            assertEquals(page, CSP, r.headers().firstValue("Content-Security-Policy").orElse(null));
            assertEquals(page, "nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null));
            assertEquals(page, "no-referrer", r.headers().firstValue("Referrer-Policy").orElse(null));
        }
        HttpResponse<String> index = Node.send(Node.request("/ui/").GET());
        assertEquals(200, index.statusCode());
        assertTrue("no inline script", !index.body().matches("(?s).*<script(?![^>]*\\bsrc=)[^>]*>.*"));
        assertTrue("no inline style", !index.body().contains("<style") && !index.body().contains("style="));
    }

    @Test
    public void theSessionCookieIsHttpOnlySecureStrictAndTheApiIgnoresIt() throws Exception {
        Node.Signed s = Node.signIn();
        String set = s.setCookie;
        assertTrue(set, set.contains("; HttpOnly"));
        assertTrue(set, set.contains("; Secure"));
        assertTrue(set, set.contains("; SameSite=Strict"));
        assertTrue(set, set.contains("; Path=/ui"));
        assertEquals("a 256-bit id", 43, s.cookie.substring(s.cookie.indexOf('=') + 1).length());
        // The Conjur API never takes the console's cookie, even with the CSRF header.
        for (String path : new String[] {"/whoami", "/secrets" + Node.idPath(Node.VARIABLE),
            "/resources/" + Node.ACCOUNT}) {
            HttpResponse<String> r = Node.send(Node.request(path).header("Cookie", s.cookie)
                    .header("X-Coffer-CSRF", s.csrf).GET());
            assertEquals(path + " with only the session cookie", 401, r.statusCode());
        }
        signOut(s);
    }

    @Test
    public void aConsoleCallWithoutTheCsrfHeaderIsRefused() throws Exception {
        Node.Signed s = Node.signIn();
        HttpResponse<String> r = Node.send(Node.request("/ui/api/conjur/whoami").header("Cookie", s.cookie).GET());
        assertEquals(403, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals("forbidden", Node.JSON.readTree(r.body()).path("error").path("code").asText());
        HttpResponse<String> wrong = Node.send(Node.request("/ui/api/conjur/whoami").header("Cookie", s.cookie)
                .header("X-Coffer-CSRF", s.csrf.substring(1) + "x").GET());
        assertEquals("a wrong token", 403, wrong.statusCode());
        HttpResponse<String> ok = Node.send(Node.request("/ui/api/conjur/whoami").header("Cookie", s.cookie)
                .header("X-Coffer-CSRF", s.csrf).GET());
        assertEquals(200, ok.statusCode());
        assertEquals("no-store", ok.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("nosniff", ok.headers().firstValue("X-Content-Type-Options").orElse(null));
        assertEquals("no-referrer", ok.headers().firstValue("Referrer-Policy").orElse(null));
        assertEquals(CSP, ok.headers().firstValue("Content-Security-Policy").orElse(null));
        JsonNode who = Node.JSON.readTree(ok.body());
        assertEquals(Node.LOGIN, who.get("username").asText());
        signOut(s);
    }

    @Test
    public void aWriteThroughTheConsoleFollowsTheNodesRole() throws Exception {
        Node.Signed s = Node.signIn();
        HttpResponse<String> r = Node.send(Node.request("/ui/api/conjur/secrets" + Node.idPath(Node.HOSTILE))
                .header("Cookie", s.cookie).header("X-Coffer-CSRF", s.csrf).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("written through the console")));
        // A Follower refuses every write (405, the API's own gate); the Leader takes it.
        assertEquals(Node.ROLE.equals("follower") ? 405 : 201, r.statusCode());
        signOut(s);
    }

    private static void signOut(Node.Signed s) throws Exception {
        HttpResponse<String> out = Node.send(Node.request("/ui/api/session").header("Cookie", s.cookie)
                .header("X-Coffer-CSRF", s.csrf).DELETE());
        assertEquals(200, out.statusCode());
        HttpResponse<String> after = Node.send(Node.request("/ui/api/conjur/whoami").header("Cookie", s.cookie)
                .header("X-Coffer-CSRF", s.csrf).GET());
        assertEquals("the session is gone after sign-out", 401, after.statusCode());
    }
}
