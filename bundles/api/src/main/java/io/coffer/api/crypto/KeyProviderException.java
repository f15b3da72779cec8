package io.coffer.api.crypto;

/** A master-key provider could not wrap or unwrap. The message says why, without any key material. */
public class KeyProviderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed and what to do about it */
    public KeyProviderException(String message) {
        super(message);
    }

    /**
     * @param message what failed and what to do about it
     * @param cause the provider's own error (must carry no key material either)
     */
    public KeyProviderException(String message, Throwable cause) {
        super(message, cause);
    }
}
