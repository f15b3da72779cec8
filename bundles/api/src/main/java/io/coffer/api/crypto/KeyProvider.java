package io.coffer.api.crypto;

/**
 * A source of master keys that wrap the node's server key (architecture §8): the file/prompt provider built into
 * {@code crypto}, AWS KMS, or an HSM. Registered as an OSGi service; the server-key file records the provider's
 * {@link #name()} and the key id that wrapped it, so a node finds the same provider again at start.
 * <p>
 * A provider never sees anything but the server key's bytes and never stores them. Implementations are
 * thread-safe; calls may block on the network or a token for a bounded time.
 */
public interface KeyProvider {

    /**
     * @return the name recorded in the server-key file: lower case letters, digits and dashes (e.g. {@code file},
     *         {@code kms}, {@code hsm})
     */
    String name();

    /**
     * @return the key id new wraps use when the operator names none (e.g. the configured KMS key or HSM label)
     * @throws KeyProviderException when the provider has no default key
     */
    String defaultKeyId();

    /**
     * Encrypts key material under a master key.
     *
     * @param keyId the master key, as {@link #defaultKeyId()} or an id the operator named
     * @param key the key bytes; not retained
     * @param context what the bytes are (e.g. {@code coffer:server-key:v2}); bound to the result, so a blob wrapped
     *        for one context does not unwrap for another
     * @return the wrapped blob and the id of the key that wrapped it (possibly a canonical form of {@code keyId})
     * @throws KeyProviderException when the key is missing, disabled, or the provider is unreachable
     */
    WrappedKey wrap(String keyId, byte[] key, String context);

    /**
     * Decrypts what {@link #wrap} made.
     *
     * @param keyId the id {@link WrappedKey#keyId()} returned
     * @param wrapped the blob
     * @param context the same context
     * @return the key bytes; the caller clears them
     * @throws KeyProviderException when the key is missing or disabled, the blob was tampered with, the context
     *         differs, or the provider is unreachable
     */
    byte[] unwrap(String keyId, byte[] wrapped, String context);

    /** A wrapped key and the id of the master key that wrapped it. */
    final class WrappedKey {
        private final String keyId;
        private final byte[] blob;

        /**
         * @param keyId the master key's id; one printable line
         * @param blob the wrapped bytes
         */
        public WrappedKey(String keyId, byte[] blob) {
            this.keyId = keyId;
            this.blob = blob.clone();
        }

        /** @return the master key's id */
        public String keyId() {
            return keyId;
        }

        /** @return a copy of the wrapped bytes */
        public byte[] blob() {
            return blob.clone();
        }
    }
}
