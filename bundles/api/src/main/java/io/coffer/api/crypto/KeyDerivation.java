package io.coffer.api.crypto;

/**
 * Keys for purposes other than sealing values, derived from the cluster's root key (HKDF-SHA256), so nothing more
 * is stored or configured: a node has such a key exactly when its keys are unlocked, and every node holding the root
 * key derives the same one. The root key stays put through master-key and data-key rotations, so derived keys do too.
 * Thread-safe.
 */
public interface KeyDerivation {

    /**
     * @param purpose a label naming the use (e.g. {@code coffer:audit:mac:v1:n1}); different labels give
     *     independent keys
     * @return 32 bytes of key material; the caller keeps them in memory only and zeroes them when done
     * @throws KeysLockedException when the node's keys are not unlocked
     */
    byte[] derive(String purpose);
}
