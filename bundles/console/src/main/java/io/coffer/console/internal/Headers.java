package io.coffer.console.internal;

import javax.servlet.http.HttpServletResponse;

/** The headers every {@code /ui} response carries, and the session cookie's form. */
final class Headers {
    /** No inline script or style, nothing from elsewhere, no framing, no plugins, no base or form redirection. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    static final String COOKIE = "coffer_console";
    static final String CSRF_HEADER = "X-Coffer-CSRF";

    private Headers() {
    }

    static void secure(HttpServletResponse r) {
        r.setHeader("Content-Security-Policy", CSP);
        r.setHeader("X-Content-Type-Options", "nosniff");
        r.setHeader("Referrer-Policy", "no-referrer");
        r.setHeader("X-Frame-Options", "DENY");
        r.setHeader("Cross-Origin-Opener-Policy", "same-origin");
        r.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    }

    /** Set-Cookie for a session id; {@code null} clears it. Path /ui: the API's paths never receive it. */
    static String cookie(String id) {
        return COOKIE + "=" + (id == null ? "" : id) + "; Path=/ui; Secure; HttpOnly; SameSite=Strict"
                + (id == null ? "; Max-Age=0" : "");
    }
}
