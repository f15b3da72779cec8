package io.coffer.audit.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An append-only line file rotated by size: {@code name} → {@code name.1} → ... → {@code name.<keep>}, the oldest
 * deleted. Owner-only permissions: audit lines name roles, resources and addresses. Used by the writer thread only.
 */
final class RotatingFile implements Closeable {
    private final Path path;
    private final long maxBytes;
    private final int keep;
    private FileChannel channel;

    RotatingFile(Path path, long maxBytes, int keep) throws IOException {
        this.path = path;
        this.maxBytes = maxBytes;
        this.keep = Math.max(1, keep);
        open();
    }

    private void open() throws IOException {
        if (!Files.exists(path)) {
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(path);
            }
        }
        channel = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** Appends the lines (each gets a newline), rotating first when they would take the file past its size. */
    void append(CharSequence lines) throws IOException {
        // String.getBytes, not Charset.encode: the latter walks a CharBuffer char by char, and JFR found the audit
        // writer spending two thirds of its time there under load.
        ByteBuffer buf = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
        if (channel.size() > 0 && channel.size() + buf.remaining() > maxBytes) {
            rotate();
        }
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    /** Makes everything appended so far durable (one fsync for the whole batch: group commit). */
    void sync() throws IOException {
        channel.force(false);
    }

    private void rotate() throws IOException {
        channel.force(false);
        channel.close();
        Files.deleteIfExists(numbered(keep));
        for (int i = keep - 1; i >= 1; i--) {
            if (Files.exists(numbered(i))) {
                Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(path, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        open();
    }

    Path numbered(int i) {
        return path.resolveSibling(path.getFileName() + "." + i);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
