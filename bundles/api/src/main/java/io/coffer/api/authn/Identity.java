package io.coffer.api.authn;

import java.time.Instant;

/** Who a verified access token says the caller is. Immutable. */
public final class Identity {
    private final String account;
    private final String login;
    private final Instant issuedAt;
    private final Instant expiresAt;

    /**
     * @param account the account whose signing key verified the token
     * @param login the token's {@code sub}: {@code alice} or {@code host/myapp}
     * @param issuedAt the token's {@code iat}
     * @param expiresAt the token's {@code exp}
     */
    public Identity(String account, String login, Instant issuedAt, Instant expiresAt) {
        this.account = account;
        this.login = login;
        this.issuedAt = issuedAt;
        this.expiresAt = expiresAt;
    }

    /** @return the account */
    public String account() {
        return account;
    }

    /** @return the login ({@code sub}) */
    public String login() {
        return login;
    }

    /** @return the full role id, e.g. {@code myorg:user:alice} or {@code myorg:host:myapp} */
    public String roleId() {
        return account + ":" + Logins.roleIdTail(login);
    }

    /** @return when the token was issued */
    public Instant issuedAt() {
        return issuedAt;
    }

    /** @return when the token expires */
    public Instant expiresAt() {
        return expiresAt;
    }
}
