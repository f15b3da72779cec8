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

/**
 * The node's server-key file: the cluster root key, cleartext by default as in Conjur (the keys issue adds master-key
 * wrapping). The file must be the node's alone (0600); one readable by others is refused, as ssh refuses a key file.
 */
final class ServerKeyFile {
    static final String HEADER = "coffer-server-key v1";

    private ServerKeyFile() {
    }

    /**
     * @param create whether to create a new root key when the file is absent (only a node founding a cluster may)
     * @return the 32-byte root key
     */
    static byte[] load(Path file, boolean create) throws IOException {
        if (!Files.exists(file)) {
            if (!create) {
                throw new IllegalStateException("server-key file " + file + " is missing: this node's keys can't "
                        + "be unlocked (restore it, or enrol the node again)");
            }
            return createNew(file);
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
            throw new IllegalStateException("server-key file " + file + " is accessible to other users ("
                    + PosixFilePermissions.toString(perms) + "); chmod 600 it");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        if (lines.size() < 2 || !HEADER.equals(lines.get(0)) || !lines.get(1).startsWith("root:")) {
            throw new IllegalStateException("server-key file " + file + " is not a Coffer server-key file");
        }
        byte[] root = Base64.getDecoder().decode(lines.get(1).substring("root:".length()).trim());
        if (root.length != 32) {
            throw new IllegalStateException("server-key file " + file + " holds no 256-bit root key");
        }
        return root;
    }

    private static byte[] createNew(Path file) throws IOException {
        byte[] root = new byte[32];
        new SecureRandom().nextBytes(root);
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".server-key", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, HEADER + "\nroot:" + Base64.getEncoder().encodeToString(root) + "\n",
                StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return root;
    }
}
