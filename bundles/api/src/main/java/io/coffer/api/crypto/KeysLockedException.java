package io.coffer.api.crypto;

/** The node's server keys are locked (not yet unlocked by a master key); nothing can be sealed or opened. */
public class KeysLockedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message why the keys are locked */
    public KeysLockedException(String message) {
        super(message);
    }
}
