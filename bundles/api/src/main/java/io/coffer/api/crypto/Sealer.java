package io.coffer.api.crypto;

/**
 * Seals and opens values under the current data key. A sealed blob names the data-key version that sealed it, so
 * values sealed before a rotation still open. Thread-safe; no database access on either path.
 */
public interface Sealer {

    /**
     * Encrypts with AES-256-GCM under the current data key and a fresh 96-bit nonce.
     *
     * @param plaintext the value; not retained
     * @param context what the value belongs to (e.g. {@code myorg:variable:db/password}); bound as AAD, so the blob
     *        cannot be moved to another row
     * @return the sealed blob
     * @throws KeysLockedException when the node's keys are not unlocked
     */
    byte[] seal(byte[] plaintext, String context);

    /**
     * Decrypts a blob made by {@link #seal}.
     *
     * @param sealed the blob
     * @param context the same context it was sealed with
     * @return the plaintext
     * @throws KeysLockedException when the node's keys are not unlocked
     * @throws SealException when the blob is malformed, names an unknown key version, was sealed for another
     *         context, or was tampered with
     */
    byte[] open(byte[] sealed, String context);
}
