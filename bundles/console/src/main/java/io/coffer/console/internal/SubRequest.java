package io.coffer.console.internal;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import javax.servlet.ReadListener;
import javax.servlet.RequestDispatcher;
import javax.servlet.ServletContext;
import javax.servlet.ServletException;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletRequestWrapper;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;

/**
 * One Conjur API request issued by the console on the browser's behalf, inside this JVM: a servlet forward to the
 * API's own servlet on the browser's connection. The API therefore sees exactly what it sees for a client of its own
 * (the connection's address, decided by its client-address rule; the session's token in {@code Authorization}; no
 * cookie) and runs its own gates, permission checks, audit events and metrics: nothing of that is repeated here.
 *
 * <p>The request carries only the headers named here and attributes of its own (so nothing one sub-request leaves,
 * such as a verified identity, is seen by the next); the response is captured in memory, up to {@link #MAX_BODY}.
 */
final class SubRequest {
    /** Larger answers are cut off and refused: the console shows metadata, pages of 100 rows, and values. */
    static final int MAX_BODY = 8 << 20;

    /** What the API answered. */
    static final class Answer {
        final int status;
        final String contentType;
        final byte[] body;
        final Map<String, String> headers;
        /** The client's address as the API decided it (trusted proxies, PROXY protocol), for the console's log. */
        String clientIp;

        Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
            this.status = status;
            this.contentType = contentType;
            this.body = body;
            this.headers = headers;
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private SubRequest() {
    }

    /**
     * @param context the servlet context the API's servlet is in
     * @param browser the browser's request (its connection is the API request's connection)
     * @param browserResponse the browser's response, which the API never writes (see {@link Captured})
     * @param method HTTP method
     * @param rawPath the API path, percent-encoded as the API expects it ({@code /secrets/demo/variable/db%2Fpw})
     * @param query the raw query string, or {@code null}
     * @param headers the only headers the API request carries
     * @param body the request body (may be empty)
     */
    static Answer call(ServletContext context, HttpServletRequest browser, HttpServletResponse browserResponse,
            String method, String rawPath, String query, Map<String, String> headers, byte[] body)
            throws IOException, ServletException {
        String target = query == null || query.isEmpty() ? rawPath : rawPath + "?" + query;
        RequestDispatcher d = context.getRequestDispatcher(target);
        if (d == null) {
            return new Answer(400, "application/json", Json.error("bad_path", "the path can't be dispatched"),
                    Map.of());
        }
        Inner request = new Inner(browser, method, query, headers, body);
        Captured response = new Captured(browserResponse);
        d.forward(request, response);
        Answer a = response.answer();
        a.clientIp = io.coffer.api.rest.ClientIp.of(request::getAttribute, browser.getRemoteAddr());
        return a;
    }

    /** The API request: the browser's connection, the console's method, path, headers and body. */
    static final class Inner extends HttpServletRequestWrapper {
        private final String method;
        private final String query;
        private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        private final byte[] body;
        private final Map<String, Object> attributes = new HashMap<>();

        Inner(HttpServletRequest browser, String method, String query, Map<String, String> headers, byte[] body) {
            super(browser);
            this.method = method;
            this.query = query;
            this.headers.putAll(headers);
            this.body = body == null ? new byte[0] : body;
            if (browser.getHeader("Host") != null) {
                this.headers.putIfAbsent("Host", browser.getHeader("Host"));
            }
            if (this.body.length > 0) {
                this.headers.put("Content-Length", Integer.toString(this.body.length));
            }
        }

        @Override
        public String getMethod() {
            return method;
        }

        @Override
        public String getQueryString() {
            return query;
        }

        @Override
        public Cookie[] getCookies() {
            return null; // the API never sees the console's cookie
        }

        @Override
        public String getHeader(String name) {
            return headers.get(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            String v = headers.get(name);
            return Collections.enumeration(v == null ? List.of() : List.of(v));
        }

        @Override
        public Enumeration<String> getHeaderNames() {
            return Collections.enumeration(List.copyOf(headers.keySet()));
        }

        @Override
        public int getIntHeader(String name) {
            String v = headers.get(name);
            return v == null ? -1 : Integer.parseInt(v.trim());
        }

        @Override
        public long getDateHeader(String name) {
            if (headers.get(name) != null) {
                throw new IllegalArgumentException("no date header is sent to the API");
            }
            return -1;
        }

        @Override
        public String getContentType() {
            return headers.get("Content-Type");
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }

        @Override
        public String getCharacterEncoding() {
            return null;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
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
                public void setReadListener(ReadListener l) {
                    throw new IllegalStateException("not asynchronous");
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            return Map.of();
        }

        @Override
        public String getParameter(String name) {
            return null;
        }

        @Override
        public Enumeration<String> getParameterNames() {
            return Collections.emptyEnumeration();
        }

        @Override
        public String[] getParameterValues(String name) {
            return null;
        }

        // Attributes are the sub-request's own: what the API leaves (identity, client address, request id) must not
        // outlive it, and none of Coffer's attributes of the browser's request is inherited.
        @Override
        public Object getAttribute(String name) {
            if (attributes.containsKey(name)) {
                return attributes.get(name);
            }
            return name.startsWith("coffer.") ? null : super.getAttribute(name);
        }

        @Override
        public void setAttribute(String name, Object o) {
            if (o == null) {
                removeAttribute(name);
            } else {
                attributes.put(name, o);
            }
        }

        @Override
        public void removeAttribute(String name) {
            attributes.remove(name);
            // A later read must not fall through to the browser's request for this name.
            attributes.put(name, null);
        }

        @Override
        public Enumeration<String> getAttributeNames() {
            Map<String, Object> all = new LinkedHashMap<>();
            for (Enumeration<String> e = super.getAttributeNames(); e.hasMoreElements();) {
                String n = e.nextElement();
                if (!n.startsWith("coffer.")) {
                    all.put(n, Boolean.TRUE);
                }
            }
            attributes.forEach((k, v) -> {
                if (v == null) {
                    all.remove(k);
                } else {
                    all.put(k, v);
                }
            });
            return Collections.enumeration(all.keySet());
        }
    }

    /** Everything the API writes stays here; the browser's response is left untouched. */
    static final class Captured extends HttpServletResponseWrapper {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        private int status = 200;
        private String contentType;
        private boolean tooLarge;
        private PrintWriter writer;
        private final ServletOutputStream stream = new ServletOutputStream() {
            @Override
            public void write(int b) {
                if (out.size() >= MAX_BODY) {
                    tooLarge = true;
                    return;
                }
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (out.size() + len > MAX_BODY) {
                    tooLarge = true;
                    return;
                }
                out.write(b, off, len);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener l) {
                throw new IllegalStateException("not asynchronous");
            }
        };

        Captured(HttpServletResponse browser) {
            super(browser);
        }

        Answer answer() {
            if (writer != null) {
                writer.flush();
            }
            if (tooLarge) {
                return new Answer(502, "application/json", Json.error("too_large",
                        "the API's answer is larger than the console shows"), Map.of());
            }
            return new Answer(status, contentType, out.toByteArray(), Map.copyOf(headers));
        }

        @Override
        public void setStatus(int sc) {
            status = sc;
        }

        @Override
        @SuppressWarnings("deprecation")
        public void setStatus(int sc, String sm) {
            status = sc;
        }

        @Override
        public void sendError(int sc) {
            status = sc;
        }

        @Override
        public void sendError(int sc, String msg) {
            status = sc;
        }

        @Override
        public void sendRedirect(String location) {
            status = 302;
            headers.put("Location", location);
        }

        @Override
        public int getStatus() {
            return status;
        }

        @Override
        public void setHeader(String name, String value) {
            if ("Content-Type".equalsIgnoreCase(name)) {
                setContentType(value);
            } else if (value == null) {
                headers.remove(name);
            } else {
                headers.put(name, value);
            }
        }

        @Override
        public void addHeader(String name, String value) {
            if (headers.containsKey(name)) {
                headers.put(name, headers.get(name) + ", " + value);
            } else {
                setHeader(name, value);
            }
        }

        @Override
        public void setIntHeader(String name, int value) {
            setHeader(name, Integer.toString(value));
        }

        @Override
        public void addIntHeader(String name, int value) {
            addHeader(name, Integer.toString(value));
        }

        @Override
        public void setDateHeader(String name, long date) {
            setHeader(name, Long.toString(date));
        }

        @Override
        public void addDateHeader(String name, long date) {
            addHeader(name, Long.toString(date));
        }

        @Override
        public boolean containsHeader(String name) {
            return headers.containsKey(name);
        }

        @Override
        public String getHeader(String name) {
            return "Content-Type".equalsIgnoreCase(name) ? contentType : headers.get(name);
        }

        @Override
        public Collection<String> getHeaders(String name) {
            String v = getHeader(name);
            return v == null ? List.of() : List.of(v);
        }

        @Override
        public Collection<String> getHeaderNames() {
            return List.copyOf(headers.keySet());
        }

        @Override
        public void addCookie(Cookie cookie) {
            // The API sets none; if it did, it would not reach the browser through the console.
        }

        @Override
        public void setContentType(String type) {
            contentType = type;
        }

        @Override
        public String getContentType() {
            return contentType;
        }

        @Override
        public void setContentLength(int len) {
        }

        @Override
        public void setContentLengthLong(long len) {
        }

        @Override
        public void setCharacterEncoding(String charset) {
        }

        @Override
        public String getCharacterEncoding() {
            return "UTF-8";
        }

        @Override
        public void setLocale(java.util.Locale loc) {
        }

        @Override
        public Locale getLocale() {
            return Locale.ROOT;
        }

        @Override
        public ServletOutputStream getOutputStream() {
            return stream;
        }

        @Override
        public PrintWriter getWriter() {
            if (writer == null) {
                writer = new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8));
            }
            return writer;
        }

        @Override
        public void setBufferSize(int size) {
        }

        @Override
        public int getBufferSize() {
            return MAX_BODY;
        }

        @Override
        public void flushBuffer() {
        }

        @Override
        public boolean isCommitted() {
            return false;
        }

        @Override
        public void reset() {
            resetBuffer();
            headers.clear();
            status = 200;
            contentType = null;
        }

        @Override
        public void resetBuffer() {
            out.reset();
            tooLarge = false;
        }

        @Override
        public String encodeURL(String url) {
            return url;
        }

        @Override
        public String encodeRedirectURL(String url) {
            return url;
        }
    }
}
