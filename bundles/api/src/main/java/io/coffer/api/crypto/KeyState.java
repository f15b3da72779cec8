package io.coffer.api.crypto;

/**
 * Whether the node's keys are unlocked. While they are locked the API answers 503 {@code keys_locked} and
 * {@code /health} reports {@code "keys":"locked"}; cheap enough to ask on every request.
 */
public interface KeyState {

    /** @return true when the data keys are in memory and values can be sealed and opened */
    boolean unlocked();

    /** @return why the keys are locked (no key material), or {@code null} when they are unlocked */
    String lockedReason();
}
