package io.coffer.api.secrets;

/**
 * Write side of secrets (Leader only): appends a version. The caller has checked {@code update} on the resource.
 */
public interface SecretWriter {

    /**
     * Seals and stores {@code value} as the resource's next version, keeping the newest 20. Storing the value the
     * latest version already holds creates no version.
     *
     * @param resourceId e.g. {@code myorg:variable:db/password}
     * @param value the secret; the caller wipes it afterwards
     * @return the version that now holds the value
     */
    int append(String resourceId, byte[] value);

    /**
     * Clears {@code expires_at} on every version of the variable (Conjur's {@code ?expirations}), with a change-log row.
     *
     * @param resourceId the variable
     */
    void expire(String resourceId);

    /**
     * Context a version is sealed with: binds the ciphertext to its variable and version.
     *
     * @param resourceId the variable
     * @param version the version
     * @return the sealing context
     */
    static String context(String resourceId, int version) {
        return resourceId + "#" + version;
    }
}
