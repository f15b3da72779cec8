package io.coffer.api.crypto;

/** A sealed value could not be opened: wrong context, unknown key version, or tampering. Never carries plaintext. */
public class SealException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed, without any key or plaintext material */
    public SealException(String message) {
        super(message);
    }
}
