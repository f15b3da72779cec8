package io.coffer.crypto.internal;

import java.util.Map;

/** What the {@code coffer:keys-*} shell commands drive; implemented by {@link Keyring}. Not exported. */
public interface KeyAdmin {

    /** @return the keys' state, display-ready (never key material) */
    Map<String, Object> status();

    /**
     * Tries to unlock now with whatever provider the server-key file names.
     *
     * @return a one-line summary
     * @throws IllegalStateException with the reason when the keys stay locked
     */
    String unlock();

    /**
     * Wraps the root key under a master key and replaces the server-key file; the node stays unlocked.
     *
     * @param provider the provider's name
     * @param keyId the master key, or {@code null} for the provider's default
     * @param onlyIfCleartext refuse when the file is already wrapped ({@code keys-encrypt})
     * @return a one-line summary
     */
    String wrap(String provider, String keyId, boolean onlyIfCleartext);

    /**
     * Leader only: creates the next data-key version, seals new values under it, and re-encrypts every sealed value
     * in the background; older versions are destroyed once nothing uses them.
     *
     * @param wait whether to return only when the re-encryption has finished
     * @return a one-line summary
     */
    String rotateData(boolean wait) throws InterruptedException;
}
