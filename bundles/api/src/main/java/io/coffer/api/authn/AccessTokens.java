package io.coffer.api.authn;

/**
 * Issues and verifies access tokens in Conjur's framing: a JSON object with {@code protected}, {@code payload} and
 * {@code signature}, each URL-safe base64 with padding; the payload is {@code {"iat","sub","exp"}}. Verification of a
 * warm token touches no database.
 */
public interface AccessTokens {

    /**
     * @param account the account whose signing key signs
     * @param login the token's subject ({@code alice}, {@code host/myapp})
     * @return the token JSON, UTF-8
     * @throws AuthnException 401 when the account has no signing key
     */
    byte[] issue(String account, String login);

    /**
     * @param authorization the {@code Authorization} header value ({@code Token token="<base64 of the token JSON>"})
     * @return the verified identity
     * @throws AuthnException 401 with Conjur's message when missing, malformed, badly signed or expired
     */
    Identity verify(String authorization);
}
