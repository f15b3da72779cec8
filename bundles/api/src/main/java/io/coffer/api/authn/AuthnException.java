package io.coffer.api.authn;

/**
 * Authentication failed. The status is what the API answers (401, or 403 for an origin outside {@code cidr});
 * the message is safe to return (Conjur's wording) and never contains a credential.
 */
public class AuthnException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    /**
     * @param status HTTP status to answer
     * @param message client-safe message
     */
    public AuthnException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** @return the HTTP status */
    public int status() {
        return status;
    }
}
