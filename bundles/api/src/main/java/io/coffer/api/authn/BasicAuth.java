package io.coffer.api.authn;

/**
 * Checks HTTP Basic credentials (login and password, or login and API key) the way {@code /authn/{account}/login}
 * does, for the routes that require Basic auth (password change, self API-key rotation). Throttled like every
 * authentication.
 */
public interface BasicAuth {

    /**
     * @param account the account from the URL
     * @param authorization the {@code Authorization} header value
     * @param clientIp the client's address
     * @return the authenticated role id, e.g. {@code myorg:user:alice}
     * @throws AuthnException 401 (empty message) when the header is missing, not Basic, or wrong; 429 when throttled
     */
    String verify(String account, String authorization, String clientIp);
}
