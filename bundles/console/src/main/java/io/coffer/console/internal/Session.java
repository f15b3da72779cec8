package io.coffer.console.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * One signed-in console user, held in memory on the node that signed them in. The access token and the API key it
 * is renewed with never leave the server: the browser holds only the session id (an HttpOnly cookie) and the CSRF
 * token, which it sends as a header.
 */
final class Session {
    final String account;
    final String login;
    final long createdMillis;
    private final byte[] csrf;
    private byte[] apiKey;
    private String token;
    private long tokenMillis;
    private volatile long lastUsedMillis;

    Session(String account, String login, byte[] apiKey, String token, String csrf, long now) {
        this.account = account;
        this.login = login;
        this.apiKey = apiKey;
        this.token = token;
        this.csrf = csrf.getBytes(StandardCharsets.US_ASCII);
        this.createdMillis = now;
        this.tokenMillis = now;
        this.lastUsedMillis = now;
    }

    /** Constant time: a timing difference must not tell how much of a guessed token was right. */
    boolean csrfMatches(String offered) {
        return offered != null && MessageDigest.isEqual(csrf, offered.getBytes(StandardCharsets.US_ASCII));
    }

    String csrf() {
        return new String(csrf, StandardCharsets.US_ASCII);
    }

    void touch(long now) {
        lastUsedMillis = now;
    }

    long lastUsedMillis() {
        return lastUsedMillis;
    }

    synchronized String token() {
        return token;
    }

    synchronized long tokenMillis() {
        return tokenMillis;
    }

    /** @return a copy of the API key (the caller wipes it), or {@code null} once the session is destroyed */
    synchronized byte[] apiKey() {
        return apiKey == null ? null : apiKey.clone();
    }

    synchronized void renewed(String newToken, long now) {
        token = newToken;
        tokenMillis = now;
    }

    /** Signed out or expired: the credential is wiped at once. */
    synchronized void destroy() {
        if (apiKey != null) {
            Arrays.fill(apiKey, (byte) 0);
            apiKey = null;
        }
        token = null;
    }

    String roleId() {
        return account + ":" + io.coffer.api.authn.Logins.roleIdTail(login);
    }
}
