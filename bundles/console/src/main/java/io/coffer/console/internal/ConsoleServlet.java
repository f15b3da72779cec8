package io.coffer.console.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

import javax.servlet.ServletException;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;

/**
 * {@code /ui}: the console's static files, and its backend under {@code /ui/api}: sign-in and sign-out, and
 * {@code /ui/api/conjur/...}, which issues the same Conjur API request as the signed-in user (see {@link SubRequest}).
 * Every answer carries the headers of {@link Headers}; every backend call but sign-in needs the session cookie and
 * the session's CSRF token in {@link Headers#CSRF_HEADER}.
 */
public class ConsoleServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServlet.class);
    private static final Pattern FILE = Pattern.compile("/[a-z0-9-]{1,40}\\.(html|js|css|svg)");
    /** Reads the console offers: resources, roles, secret values, the audit trail, the cluster, who am I. */
    private static final Pattern READS =
            Pattern.compile("/(resources|roles|secrets|audit|whoami|cluster/status)(/[^?#]*)?");
    /** The one write the console offers (on the Leader): a new value for a variable. */
    private static final Pattern WRITES = Pattern.compile("/secrets/[^/]+/variable/[^/][^?#]*");
    private static final int MAX_SIGN_IN = 16 << 10;
    private static final int MAX_VALUE = 1 << 20;

    private final transient Sessions sessions;
    private final transient NodeIdentity node;
    private final transient LongSupplier clock;
    private volatile long renewMillis;

    ConsoleServlet(Sessions sessions, NodeIdentity node, LongSupplier clock, long renewMillis) {
        this.sessions = sessions;
        this.node = node;
        this.clock = clock;
        this.renewMillis = renewMillis;
    }

    void renewAfter(long millis) {
        renewMillis = millis;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        Headers.secure(resp);
        NodeRole role = node.role();
        if (role == NodeRole.STANDBY || role == NodeRole.DR_STANDBY) {
            // As the API: a Standby serves nothing but health (its database may be promoted under it).
            json(resp, 503, Json.error("service_unavailable", "this node is a " + role.id()
                    + " and serves no console; use the Leader or a Follower"));
            return;
        }
        String path = req.getPathInfo();
        if (path == null || path.isEmpty()) {
            resp.setStatus(302);
            resp.setHeader("Location", "/ui/");
            return;
        }
        if (path.startsWith("/api/")) {
            resp.setHeader("Cache-Control", "no-store");
            api(req, resp, path.substring(4));
            return;
        }
        file(req, resp, path.equals("/") ? "/index.html" : path);
    }

    private void file(HttpServletRequest req, HttpServletResponse resp, String path) throws IOException {
        if (!req.getMethod().equals("GET") && !req.getMethod().equals("HEAD")) {
            resp.setHeader("Allow", "GET, HEAD");
            json(resp, 405, Json.error("method_not_allowed", "the console's files are read with GET"));
            return;
        }
        URL url = FILE.matcher(path).matches() ? ConsoleServlet.class.getResource("/ui" + path) : null;
        if (url == null) {
            json(resp, 404, Json.error("not_found", "no such console page"));
            return;
        }
        byte[] body;
        try (InputStream in = url.openStream()) {
            body = in.readAllBytes();
        }
        String ext = path.substring(path.lastIndexOf('.') + 1);
        resp.setContentType(ext.equals("html") ? "text/html; charset=utf-8" : ext.equals("js")
                ? "text/javascript; charset=utf-8" : ext.equals("css") ? "text/css; charset=utf-8" : "image/svg+xml");
        resp.setHeader("Cache-Control", "no-cache");
        resp.setContentLength(body.length);
        if (req.getMethod().equals("GET")) {
            resp.getOutputStream().write(body);
        }
    }

    private void api(HttpServletRequest req, HttpServletResponse resp, String path)
            throws IOException, ServletException {
        if (path.equals("/session") && req.getMethod().equals("POST")) {
            signIn(req, resp);
            return;
        }
        String id = cookie(req);
        Session s = sessions.find(id);
        if (s == null) {
            json(resp, 401, Json.error("unauthorized", "sign in to the console"));
            return;
        }
        if (!s.csrfMatches(req.getHeader(Headers.CSRF_HEADER))) {
            json(resp, 403, Json.error("forbidden", "the console's CSRF header is missing or wrong"));
            return;
        }
        if (path.equals("/session")) {
            if (req.getMethod().equals("DELETE")) {
                sessions.destroy(id);
                resp.addHeader("Set-Cookie", Headers.cookie(null));
                json(resp, 200, Json.write(Map.of("signed_out", true)));
            } else if (req.getMethod().equals("GET")) {
                json(resp, 200, Json.write(describe(s)));
            } else {
                json(resp, 405, Json.error("method_not_allowed", "GET, POST or DELETE"));
            }
            return;
        }
        String prefix = req.getContextPath() + req.getServletPath() + "/api/conjur";
        String raw = req.getRequestURI();
        if (!path.startsWith("/conjur/") || !raw.startsWith(prefix + "/")) {
            json(resp, 404, Json.error("not_found", "no such console route"));
            return;
        }
        proxy(req, resp, s, raw.substring(prefix.length()));
    }

    /** Sign-in: Conjur's login (password or API key gives the API key), then authenticate: both the API's own. */
    private void signIn(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        String type = req.getContentType();
        String origin = req.getHeader("Origin");
        // A cross-site form can post neither JSON nor from our origin: no signing a victim into someone's session.
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")
                || (origin != null && !origin.equals("https://" + req.getHeader("Host")))) {
            json(resp, 403, Json.error("forbidden", "sign in from the console's page"));
            return;
        }
        byte[] body = req.getInputStream().readNBytes(MAX_SIGN_IN + 1);
        Map<String, Object> in = body.length > MAX_SIGN_IN ? null : Json.readObject(body);
        Arrays.fill(body, (byte) 0);
        Object account = in == null ? null : in.get("account");
        Object login = in == null ? null : in.get("login");
        Object secret = in == null ? null : in.get("secret");
        if (!(account instanceof String) || !(login instanceof String) || !(secret instanceof String)
                || ((String) account).isEmpty() || ((String) login).isEmpty() || ((String) secret).isEmpty()
                || ((String) login).indexOf(':') >= 0) {
            json(resp, 422, Json.error("argument_error", "account, login and password (or API key) are required"));
            return;
        }
        String acc = (String) account;
        String who = (String) login;
        byte[] basic = (who + ":" + secret).getBytes(StandardCharsets.UTF_8);
        String authorization = "Basic " + Base64.getEncoder().encodeToString(basic);
        Arrays.fill(basic, (byte) 0);
        SubRequest.Answer key = call(req, resp, "GET", "/authn/" + PathSegments.encode(acc) + "/login", null,
                Map.of("Authorization", authorization, "Accept", "text/plain"), null);
        if (key.status != 200) {
            failed(resp, key);
            return;
        }
        byte[] apiKey = key.body;
        String token = authenticate(req, resp, acc, who, apiKey);
        if (token == null) {
            Arrays.fill(apiKey, (byte) 0);
            json(resp, 401, Json.error("unauthorized", "sign-in failed"));
            return;
        }
        Map.Entry<String, Session> created;
        try {
            created = sessions.create(acc, who, apiKey, token);
        } catch (Sessions.FullException e) {
            Arrays.fill(apiKey, (byte) 0);
            resp.setHeader("Retry-After", "60");
            json(resp, 503, Json.error("service_unavailable", e.getMessage()));
            return;
        }
        resp.addHeader("Set-Cookie", Headers.cookie(created.getKey()));
        Map<String, Object> out = describe(created.getValue());
        out.put("csrf", created.getValue().csrf());
        LOG.info("console: {} signed in from {}", created.getValue().roleId(),
                key.clientIp != null ? key.clientIp : req.getRemoteAddr());
        json(resp, 200, Json.write(out));
    }

    private static void failed(HttpServletResponse resp, SubRequest.Answer a) throws IOException {
        if (a.status == 429) {
            resp.setHeader("Retry-After", a.headers.getOrDefault("Retry-After", "60"));
            json(resp, 429, Json.error("too_many_requests", "too many failed sign-ins; try again later"));
        } else if (a.status == 401 || a.status == 403 || a.status == 404) {
            json(resp, 401, Json.error("unauthorized", "sign-in failed"));
        } else {
            json(resp, a.status >= 500 ? a.status : 502, Json.error("sign_in_unavailable",
                    "the node could not sign you in (" + a.status + ")"));
        }
    }

    /** @return the base64 token, or {@code null} when the API refused the key */
    private String authenticate(HttpServletRequest req, HttpServletResponse resp, String account, String login,
            byte[] apiKey) throws IOException, ServletException {
        SubRequest.Answer t = call(req, resp, "POST", "/authn/" + PathSegments.encode(account) + "/"
                + PathSegments.encode(login) + "/authenticate", null,
                Map.of("Accept-Encoding", "base64", "Content-Type", "text/plain"), apiKey);
        return t.status == 200 ? t.text().trim() : null;
    }

    private Map<String, Object> describe(Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("account", s.account);
        m.put("login", s.login);
        m.put("role_id", s.roleId());
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("name", node.name());
        n.put("role", node.role().id());
        m.put("node", n);
        m.put("read_only", node.role() != NodeRole.LEADER);
        return m;
    }

    private void proxy(HttpServletRequest req, HttpServletResponse resp, Session s, String rawPath)
            throws IOException, ServletException {
        String method = req.getMethod();
        boolean read = method.equals("GET");
        if (!(read && READS.matcher(rawPath).matches()) && !(method.equals("POST") && WRITES.matcher(rawPath).matches())) {
            json(resp, read || method.equals("POST") ? 404 : 405,
                    Json.error(read || method.equals("POST") ? "not_found" : "method_not_allowed",
                            "the console does not offer " + method + " on this route"));
            return;
        }
        if (hasDotSegment(rawPath)) {
            json(resp, 404, Json.error("not_found", "no such route"));
            return;
        }
        byte[] body = null;
        if (!read) {
            body = req.getInputStream().readNBytes(MAX_VALUE + 1);
            if (body.length > MAX_VALUE) {
                json(resp, 413, Json.error("too_large", "a value sent through the console is at most 1 MiB"));
                return;
            }
        }
        try {
            String token = freshToken(req, resp, s, false);
            if (token == null) {
                sessionOver(resp, s);
                return;
            }
            SubRequest.Answer a = call(req, resp, method, rawPath, req.getQueryString(), headers(req, token), body);
            if (a.status == 401 && read) {
                // The token lapsed between the check and its use (or the signing key changed): renew once.
                token = freshToken(req, resp, s, true);
                if (token == null) {
                    sessionOver(resp, s);
                    return;
                }
                a = call(req, resp, method, rawPath, req.getQueryString(), headers(req, token), null);
            }
            for (String h : new String[] {"X-Request-Id", "Retry-After", "Allow", "X-Coffer-Position", "X-Coffer-Node",
                "X-Coffer-Epoch", "X-Coffer-Write-Id"}) {
                String v = a.headers.get(h);
                if (v != null) {
                    resp.setHeader(h, v);
                }
            }
            resp.setStatus(a.status);
            resp.setContentType(a.contentType == null ? "application/octet-stream" : a.contentType);
            resp.setContentLength(a.body.length);
            resp.getOutputStream().write(a.body);
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
    }

    private void sessionOver(HttpServletResponse resp, Session s) throws IOException {
        resp.addHeader("Set-Cookie", Headers.cookie(null));
        json(resp, 401, Json.error("unauthorized", "the console session ended (" + s.login
                + " could no longer authenticate); sign in again"));
    }

    /**
     * The session's token, renewed with the session's API key once it is {@code renewMillis} old (Conjur tokens last
     * 8 minutes) or when {@code force}d; each renewal is an authenticate request of the API's own, so it is audited
     * and fails once the key was rotated or the role deleted. @return {@code null} when renewal failed (the session
     * is then destroyed)
     */
    private String freshToken(HttpServletRequest req, HttpServletResponse resp, Session s, boolean force)
            throws IOException, ServletException {
        synchronized (s) {
            long now = clock.getAsLong();
            if (!force && now - s.tokenMillis() < renewMillis && s.token() != null) {
                return s.token();
            }
            byte[] key = s.apiKey();
            if (key == null) {
                return null;
            }
            try {
                String token = authenticate(req, resp, s.account, s.login, key);
                if (token == null) {
                    s.destroy();
                    return null;
                }
                s.renewed(token, now);
                return token;
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    private static Map<String, String> headers(HttpServletRequest req, String token) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Authorization", "Token token=\"" + token + "\"");
        h.put("Accept", req.getHeader("Accept") == null ? "*/*" : req.getHeader("Accept"));
        if (req.getContentType() != null) {
            h.put("Content-Type", req.getContentType());
        }
        for (String name : new String[] {"X-Request-Id", "User-Agent"}) {
            if (req.getHeader(name) != null) {
                h.put(name, req.getHeader(name));
            }
        }
        return h;
    }

    /** {@code .} and {@code ..} segments (also percent-encoded) would be resolved by the dispatcher: refused. */
    static boolean hasDotSegment(String rawPath) {
        for (String seg : rawPath.split("/", -1)) {
            String d = seg.replaceAll("(?i)%2e", ".");
            if (d.equals(".") || d.equals("..")) {
                return true;
            }
        }
        return false;
    }

    private SubRequest.Answer call(HttpServletRequest req, HttpServletResponse resp, String method, String rawPath,
            String query, Map<String, String> headers, byte[] body) throws IOException, ServletException {
        return SubRequest.call(getServletContext(), req, resp, method, rawPath, query, headers, body);
    }

    private static String cookie(HttpServletRequest req) {
        Cookie[] cookies = req.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie c : cookies) {
            if (Headers.COOKIE.equals(c.getName())) {
                return c.getValue();
            }
        }
        return null;
    }

    static void json(HttpServletResponse resp, int status, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentType("application/json");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }
}
