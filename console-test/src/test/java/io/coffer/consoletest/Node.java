package io.coffer.consoletest;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The node under test, as tests/console.sh names it in the environment (the launcher's variables). */
final class Node {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String URL = env("COFFER_URL");
    static final String CA = env("COFFER_CA");
    static final String ACCOUNT = env("COFFER_ACCOUNT");
    static final String LOGIN = env("COFFER_LOGIN");
    static final String API_KEY = env("COFFER_API_KEY");
    /** The node's role: leader, or follower (read-only console). */
    static final String ROLE = System.getenv().getOrDefault("CONSOLE_ROLE", "leader");
    static final String NODE_NAME = System.getenv().getOrDefault("CONSOLE_NODE", "n1");
    /** A variable the admin may fetch, its value, and a variable whose id is markup. */
    static final String VARIABLE = env("CONSOLE_VARIABLE");
    static final String VALUE = env("CONSOLE_VALUE");
    static final String HOSTILE = env("CONSOLE_HOSTILE");
    static final String SEARCH = env("CONSOLE_SEARCH");
    static final HttpClient HTTP = client();

    private Node() {
    }

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException(name + " is not set: tests/console.sh runs this test against a node");
        }
        return v;
    }

    /** The node's cluster CA is the trust store tests/console.sh names (javax.net.ssl.trustStore): JSSE's default. */
    private static HttpClient client() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(URL + path));
    }

    /** A console session over plain HTTP: the cookie's value and the CSRF token. */
    static final class Signed {
        final String cookie;
        final String csrf;
        final String setCookie;

        Signed(String cookie, String csrf, String setCookie) {
            this.cookie = cookie;
            this.csrf = csrf;
            this.setCookie = setCookie;
        }
    }

    static Signed signIn() throws Exception {
        String body = JSON.writeValueAsString(java.util.Map.of("account", ACCOUNT, "login", LOGIN, "secret", API_KEY));
        HttpResponse<String> r = send(request("/ui/api/session").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        if (r.statusCode() != 200) {
            throw new AssertionError("sign-in answered " + r.statusCode() + ": " + r.body());
        }
        String set = r.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = set.substring(0, set.indexOf(';'));
        JsonNode me = JSON.readTree(r.body());
        return new Signed(cookie, me.get("csrf").asText(), set);
    }

    /** The API path of a full id: /account/kind/name, the name percent-encoded (its slashes too). */
    static String idPath(String id) {
        String[] p = id.split(":", 3);
        return "/" + p[0] + "/" + p[1] + "/" + URLEncoder.encode(p[2], StandardCharsets.UTF_8).replace("+", "%20");
    }
}
