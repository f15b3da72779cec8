package io.coffer.blackbox;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.rules.ExternalResource;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Issue 7's first acceptance item over the whole suite: every request a test class sends carries a request id of its
 * own (unless the test chose one) and is written down; once the class is done, each request on a route conjur-api
 * §6 audits must have exactly the events §6 prescribes at the node ({@code GET /audit?procid=}): the msgid, the
 * operation, success or failure, and how many (one per variable of a batch read). Routes §6 doesn't audit are named
 * in {@link #expected}, so a new route fails here until someone decides.
 *
 * <p>Used as {@code @ClassRule public static final AuditLedger AUDIT = new AuditLedger();} in every test class.
 */
final class AuditLedger extends ExternalResource {
    private static final List<Call> CALLS = Collections.synchronizedList(new ArrayList<>());
    private int from;

    /** One request as sent and answered. */
    static final class Call {
        final String method;
        final String path;
        final int status;
        final String requestId;

        Call(String method, String path, int status, String requestId) {
            this.method = method;
            this.path = path;
            this.status = status;
            this.requestId = requestId;
        }

        @Override
        public String toString() {
            return method + " " + path + " -> " + status + " (" + requestId + ")";
        }
    }

    /** An event kind a request must produce, and how many of it. */
    static final class Expect {
        final String msgid;
        final String operation;
        final boolean success;
        final int min;
        final int max;

        Expect(String msgid, String operation, boolean success, int min, int max) {
            this.msgid = msgid;
            this.operation = operation;
            this.success = success;
            this.min = min;
            this.max = max;
        }

        static Expect one(String msgid, String operation, boolean success) {
            return new Expect(msgid, operation, success, 1, 1);
        }

        String key() {
            return msgid + "/" + operation + "/" + (success ? "success" : "failure");
        }

        @Override
        public String toString() {
            return key() + (min == max ? " x" + min : " x" + min + ".." + max);
        }
    }

    /**
     * The request's headers with an {@code X-Request-Id} added when the test named none (a test that names it with a
     * {@code null} value sends none, to see the node choose one).
     */
    static String[] withRequestId(String... headers) {
        for (int i = 0; i < headers.length; i += 2) {
            if ("X-Request-Id".equalsIgnoreCase(headers[i])) {
                return headers;
            }
        }
        String[] all = java.util.Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "X-Request-Id";
        all[headers.length + 1] = "bb-" + UUID.randomUUID();
        return all;
    }

    /** @param requestId the id the node answered with (its own when it replaced the one sent) */
    static void record(String method, String path, int status, String requestId) {
        CALLS.add(new Call(method, path, status, requestId));
    }

    @Override
    protected void before() {
        from = CALLS.size();
    }

    @Override
    protected void after() {
        List<Call> mine;
        synchronized (CALLS) {
            mine = new ArrayList<>(CALLS.subList(from, CALLS.size()));
        }
        Map<String, List<Expect>> wanted = new LinkedHashMap<>();
        Map<String, List<Call>> calls = new LinkedHashMap<>();
        for (Call c : mine) {
            List<Expect> e = expected(c);
            if (e == null || c.requestId == null) {
                continue;
            }
            wanted.computeIfAbsent(c.requestId, k -> new ArrayList<>()).addAll(e);
            calls.computeIfAbsent(c.requestId, k -> new ArrayList<>()).add(c);
        }
        List<String> wrong = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        for (Map.Entry<String, List<Expect>> w : wanted.entrySet()) {
            String problem;
            do {
                problem = compare(w.getValue(), events(w.getKey()));
                if (problem == null) {
                    break;
                }
                AuditIT.sleep();
            } while (System.currentTimeMillis() < deadline);
            if (problem != null) {
                wrong.add(calls.get(w.getKey()) + ": " + problem);
            }
        }
        System.out.println("audit ledger: " + mine.size() + " requests, " + wanted.size()
                + " of them on audited routes, " + wrong.size() + " without their events");
        if (!wrong.isEmpty()) {
            throw new AssertionError("requests whose audit events are not those conjur-api §6 prescribes:\n  "
                    + String.join("\n  ", wrong));
        }
    }

    /** Counts the events by msgid/operation/result; null when they are what was expected. */
    static String compare(List<Expect> expected, JsonNode events) {
        if (events == null) {
            return "the audit could not be read";
        }
        Map<String, Integer> found = new TreeMap<>();
        for (JsonNode e : events) {
            JsonNode action = e.path("sdata").path("action@43868");
            String key = e.path("msgid").asText() + "/" + action.path("operation").asText() + "/"
                    + action.path("result").asText();
            found.merge(key, 1, Integer::sum);
        }
        Map<String, int[]> bounds = new TreeMap<>();
        for (Expect x : expected) {
            int[] b = bounds.computeIfAbsent(x.key(), k -> new int[2]);
            b[0] += x.min;
            b[1] += x.max;
        }
        for (Map.Entry<String, int[]> b : bounds.entrySet()) {
            int n = found.getOrDefault(b.getKey(), 0);
            if (n < b.getValue()[0] || n > b.getValue()[1]) {
                return "expected " + expected + ", found " + found;
            }
        }
        for (String k : found.keySet()) {
            if (!bounds.containsKey(k) && !k.startsWith("integrity/")) {
                return "expected " + expected + ", found " + found + " (" + k + " is not this request's)";
            }
        }
        return null;
    }

    private static JsonNode events(String requestId) {
        Api.Resp r = Api.get("/audit?limit=1000&procid=" + Api.q(requestId), Api.admin());
        if (r.status == 404) {
            return Api.JSON.createArrayNode();
        }
        return r.status == 200 ? r.json() : null;
    }

    private static final Pattern AUTHN = Pattern.compile("/authn/([^/]+)/([^/]+)/authenticate");
    private static final Pattern LOGIN = Pattern.compile("/authn/([^/]+)/login");
    private static final Pattern CREDENTIAL = Pattern.compile("/authn/([^/]+)/(api_key|password)");
    private static final Pattern JWT_AUTHN = Pattern.compile("/authn-jwt/([^/]+)/([^/]+)(/[^/]+)?/authenticate");
    private static final Pattern JWT_STATUS = Pattern.compile("/authn-jwt/([^/]+)/([^/]+)/status");
    private static final Pattern JWT_CONFIG = Pattern.compile("/authn-jwt/([^/]+)/([^/]+)");
    private static final Pattern SECRET = Pattern.compile("/secrets/([^/]+)/([^/]+)/(.+)");
    private static final Pattern POLICY = Pattern.compile("/policies/([^/]+)/policy/(.+)");
    private static final Pattern RESOURCE = Pattern.compile("/resources/([^/]+)/([^/]+)/(.+)");
    private static final Pattern RESOURCES = Pattern.compile("/resources(/[^/]+){0,2}");
    private static final Pattern ROLE = Pattern.compile("/roles/([^/]+)/([^/]+)/(.+)");

    /**
     * What §6 prescribes for one request: the events it must produce, or {@code null} for a route or outcome §6
     * doesn't audit (health and status, the Coffer-only routes, a request refused before anyone was authenticated,
     * a node error or a throttle).
     */
    static List<Expect> expected(Call c) {
        return expected(c, Api.ACCOUNT);
    }

    /** As {@link #expected(Call)}, for requests in {@code account}. */
    static List<Expect> expected(Call c, String account) {
        URI u = URI.create(c.path);
        String path = u.getRawPath();
        Map<String, List<String>> query = query(u.getRawQuery());
        boolean ok = c.status >= 200 && c.status < 300;
        boolean refused = c.status >= 400 && c.status < 500 && c.status != 401 && c.status != 429;
        if (c.status >= 500 || c.status == 429 || !inAccount(path, account)) {
            return null;
        }
        Matcher m;
        // Authentication: success and failure (a wrong credential is a 401 here, and audited).
        if (c.method.equals("POST") && (m = AUTHN.matcher(path)).matches()) {
            return c.status == 200 || c.status == 401 ? List.of(Expect.one("authn", "authenticate", ok)) : null;
        }
        if (c.method.equals("GET") && LOGIN.matcher(path).matches()) {
            return c.status == 200 || c.status == 401 ? List.of(Expect.one("authn", "login", ok)) : null;
        }
        if (c.method.equals("POST") && JWT_AUTHN.matcher(path).matches()) {
            return c.status == 200 || c.status == 400 || c.status == 401
                    ? List.of(Expect.one("authn", "authenticate", ok)) : null;
        }
        if (c.method.equals("GET") && JWT_STATUS.matcher(path).matches()) {
            return null; // Conjur's authn-jwt status route audits nothing
        }
        if (c.method.equals("PATCH") && JWT_CONFIG.matcher(path).matches()) {
            return ok || refused ? List.of(Expect.one("authn", "update-authenticator-configuration", ok)) : null;
        }
        // Credentials: a rotation or a change by an authenticated caller, whatever came of it.
        if (c.method.equals("PUT") && (m = CREDENTIAL.matcher(path)).matches()) {
            boolean key = m.group(2).equals("api_key");
            return ok || refused ? List.of(Expect.one(key ? "api-key" : "password", key ? "rotate" : "change", ok))
                    : null;
        }
        if (c.method.equals("GET") && path.equals("/whoami")) {
            return ok ? List.of(Expect.one("identity-check", "check", true)) : null;
        }
        // Secrets: one fetch per variable (a batch: one per id), one update per write.
        if (c.method.equals("GET") && path.equals("/secrets")) {
            List<String> ids = query.getOrDefault("variable_ids", List.of());
            int n = ids.isEmpty() ? 0 : ids.get(0).split(",").length;
            return ok ? List.of(new Expect("fetch", "fetch", true, n, n)) : null;
        }
        if (c.method.equals("GET") && SECRET.matcher(path).matches()) {
            return ok || refused ? List.of(Expect.one("fetch", "fetch", ok)) : null;
        }
        if (c.method.equals("POST") && SECRET.matcher(path).matches()) {
            if (query.containsKey("expirations")) {
                return null; // not a value: Conjur records no update for it
            }
            return ok || refused && c.status != 405 ? List.of(Expect.one("update", "update", ok)) : null;
        }
        // Policies: one event per changed row (none for an unchanged load), one for a failed load.
        if (POLICY.matcher(path).matches() && !c.method.equals("GET")) {
            boolean dryRun = query.containsKey("dryRun") && "true".equals(query.get("dryRun").get(0));
            if (dryRun) {
                return ok || refused ? List.of(Expect.one("policy", "validate", ok)) : null;
            }
            if (ok) {
                return List.of(new Expect("policy", "add", true, 0, Integer.MAX_VALUE),
                        new Expect("policy", "remove", true, 0, Integer.MAX_VALUE),
                        new Expect("policy", "change", true, 0, Integer.MAX_VALUE));
            }
            String op = c.method.equals("POST") ? "create" : "update";
            return refused ? List.of(Expect.one("policy", op, false)) : null;
        }
        if (c.method.equals("GET") && (m = RESOURCE.matcher(path)).matches()) {
            if (query.containsKey("check")) {
                return ok || c.status == 404 || c.status == 403 ? List.of(Expect.one("check", "check",
                        c.status != 403)) : null;
            }
            if (query.containsKey("permitted_roles")) {
                return null;
            }
            return ok || refused ? List.of(Expect.one("resource", "get", ok)) : null;
        }
        if (c.method.equals("GET") && RESOURCES.matcher(path).matches()) {
            return ok || refused ? List.of(Expect.one("list", "list", ok)) : null;
        }
        if ((m = ROLE.matcher(path)).matches()) {
            if (c.method.equals("GET")) {
                if (query.containsKey("graph") || query.containsKey("all")) {
                    return null; // not audited by Conjur
                }
                if (query.containsKey("memberships")) {
                    return ok || refused ? List.of(Expect.one("membership", "list", ok)) : null;
                }
                if (query.containsKey("members")) {
                    return ok || refused ? List.of(Expect.one("members", "list", ok)) : null;
                }
                return null; // a role's own record: §6 audits no read of it
            }
            // A grant or revocation: one event when it changed something (none when it was already so), none for a
            // refusal, as Conjur.
            String op = c.method.equals("POST") ? "add" : "remove";
            return ok ? List.of(new Expect("policy", op, true, 0, 1)) : null;
        }
        return null;
    }

    /** Whether the path names the suite's account where it names one (the admin reads only that account's trail). */
    private static boolean inAccount(String path, String account) {
        Matcher m = ACCOUNT_IN_PATH.matcher(path);
        return !m.lookingAt() || URLDecoder.decode(m.group(1) != null ? m.group(1) : m.group(2),
                StandardCharsets.UTF_8).equals(account);
    }

    private static final Pattern ACCOUNT_IN_PATH = Pattern.compile(
            "/(?:authn|secrets|policies|resources|roles)/([^/?]+)|/authn-jwt/[^/]+/([^/?]+)");

    static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> q = new LinkedHashMap<>();
        if (raw == null) {
            return q;
        }
        for (String p : raw.split("&")) {
            int eq = p.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? p : p.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8);
            q.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return q;
    }
}
