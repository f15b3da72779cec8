package io.coffer.crypto.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The node's server-key file: the cluster root key, cleartext by default as in Conjur, or wrapped by a master key.
 * The file must be the node's alone (0600); one readable by others is refused, as ssh refuses a key file.
 * <pre>
 * coffer-server-key v1          coffer-server-key v2
 * root:&lt;base64 32 bytes&gt;        provider:&lt;name&gt;
 *                               key-id:&lt;master key id&gt;
 *                               wrapped:&lt;base64 blob&gt;
 * </pre>
 * v2 records which provider and key wrapped the root key, so a node finds them again at start; the wrap is bound
 * to {@link #WRAP_CONTEXT}. Files are replaced atomically (temp file, then rename), so a crash leaves the old file
 * or the new one, never half of one.
 */
final class ServerKeyFile {
    static final String HEADER = "coffer-server-key v1";
    static final String HEADER_WRAPPED = "coffer-server-key v2";
    /** What a master key wraps: bound as AAD or KMS encryption context. */
    static final String WRAP_CONTEXT = "coffer:server-key:v2";
    static final Pattern PROVIDER_NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final Pattern KEY_ID = Pattern.compile("[\\x21-\\x7e]{1,2048}");

    /** A parsed file: either a cleartext root key, or a wrapped one with its provider and key id. */
    static final class Contents {
        final byte[] root;
        final String provider;
        final String keyId;
        final byte[] wrapped;

        private Contents(byte[] root, String provider, String keyId, byte[] wrapped) {
            this.root = root;
            this.provider = provider;
            this.keyId = keyId;
            this.wrapped = wrapped;
        }

        static Contents cleartext(byte[] root) {
            return new Contents(root, null, null, null);
        }

        static Contents wrapped(String provider, String keyId, byte[] wrapped) {
            if (!PROVIDER_NAME.matcher(provider).matches()) {
                throw new IllegalArgumentException("provider name '" + printable(provider)
                        + "': expected lower-case letters, digits and dashes");
            }
            if (!KEY_ID.matcher(keyId).matches()) {
                throw new IllegalArgumentException("key id must be one line of printable characters without spaces");
            }
            return new Contents(null, provider, keyId, wrapped);
        }

        boolean isWrapped() {
            return provider != null;
        }
    }

    private ServerKeyFile() {
    }

    /**
     * @param create whether to create a new cleartext root key when the file is absent (only a node founding a
     *        cluster may)
     * @return the file's contents
     */
    static Contents read(Path file, boolean create) throws IOException {
        if (!Files.exists(file)) {
            if (!create) {
                throw new IllegalStateException("server-key file " + file + " is missing: this node's keys can't "
                        + "be unlocked (restore it, or enrol the node again)");
            }
            byte[] root = new byte[32];
            new SecureRandom().nextBytes(root);
            write(file, Contents.cleartext(root));
            return Contents.cleartext(root);
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
            throw new IllegalStateException("server-key file " + file + " is accessible to other users ("
                    + PosixFilePermissions.toString(perms) + "); chmod 600 it");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        String bad = "server-key file " + file + " is not a Coffer server-key file";
        if (lines.isEmpty()) {
            throw new IllegalStateException(bad);
        }
        try {
            if (HEADER.equals(lines.get(0)) && lines.size() >= 2) {
                byte[] root = Base64.getDecoder().decode(field(lines, 1, "root"));
                if (root.length != 32) {
                    throw new IllegalStateException("server-key file " + file + " holds no 256-bit root key");
                }
                return Contents.cleartext(root);
            }
            if (HEADER_WRAPPED.equals(lines.get(0)) && lines.size() >= 4) {
                return Contents.wrapped(field(lines, 1, "provider"), field(lines, 2, "key-id"),
                        Base64.getDecoder().decode(field(lines, 3, "wrapped")));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(bad + ": " + e.getMessage());
        }
        throw new IllegalStateException(bad + " (unknown header or too few lines)");
    }

    private static String field(List<String> lines, int i, String name) {
        String line = lines.get(i);
        if (!line.startsWith(name + ":")) {
            throw new IllegalArgumentException("line " + (i + 1) + " should start with '" + name + ":'");
        }
        return line.substring(name.length() + 1).trim();
    }

    /** Replaces the file atomically with {@code contents}, 0600. */
    static void write(Path file, Contents contents) throws IOException {
        String text = contents.isWrapped()
                ? HEADER_WRAPPED + "\nprovider:" + contents.provider + "\nkey-id:" + contents.keyId + "\nwrapped:"
                        + Base64.getEncoder().encodeToString(contents.wrapped) + "\n"
                : HEADER + "\nroot:" + Base64.getEncoder().encodeToString(contents.root) + "\n";
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".server-key", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII, java.nio.file.StandardOpenOption.SYNC);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String printable(String s) {
        return s.codePoints().limit(64).map(c -> c < 0x20 || c > 0x7e ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
