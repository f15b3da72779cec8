package io.coffer.api.authn;

/**
 * Exchanges a credential for an access token. The built-in {@code authn} authenticator checks API keys; others
 * ({@code authn-jwt}, ...) plug in as services of this type.
 */
public interface Authenticator {

    /** @return the authenticator's name in routes, e.g. {@code authn} or {@code authn-jwt} */
    String name();

    /**
     * @param account the account
     * @param login the login from the URL ({@code alice}, {@code host/myapp})
     * @param credential the request body (for {@code authn}, the API key); wiped by the caller after use
     * @param clientIp the client's address, for {@code restricted_to}
     * @return the token JSON
     * @throws AuthnException 401 for any failure (no detail leaks to the caller)
     */
    byte[] authenticate(String account, String login, byte[] credential, String clientIp);
}
