package io.coffer.api.authn;

/**
 * Authentication failed. The status is what the API answers (401, or 403 for an origin outside {@code cidr});
 * the message is safe to return (Conjur's wording) and never contains a credential.
 */
public class AuthnException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final long retryAfterSeconds;

    /**
     * @param status HTTP status to answer
     * @param message client-safe message
     */
    public AuthnException(int status, String message) {
        this(status, message, 0);
    }

    /**
     * @param status HTTP status to answer (429 when throttled)
     * @param message client-safe message
     * @param retryAfterSeconds for 429: seconds until the caller may retry
     */
    public AuthnException(int status, String message, long retryAfterSeconds) {
        super(message);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** @return seconds to put in {@code Retry-After}, or 0 */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** @return the HTTP status */
    public int status() {
        return status;
    }
}
