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
import java.util.ArrayList;
import java.util.List;

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

    /** Appends the lines (each ends with its newline), rotating first when they would take the file past its size. */
    void append(CharSequence lines) throws IOException {
        // String.getBytes, not Charset.encode: the latter walks a CharBuffer char by char, and JFR found the audit
        // writer spending two thirds of its time there under load.
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        if (needsRotation(bytes.length)) {
            rotate();
        }
        append(bytes);
    }

    /**
     * Appends without rotating. A write that fails half-way is cut back off, so a retry doesn't leave a torn line
     * in front of the same lines again.
     */
    void append(byte[] bytes) throws IOException {
        long before = channel.size();
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            try {
                channel.truncate(before);
            } catch (IOException cut) {
                e.addSuppressed(cut);
            }
            throw e;
        }
    }

    /** @return whether appending {@code bytes} more would take a non-empty file past its size */
    boolean needsRotation(long bytes) throws IOException {
        return channel.size() > 0 && channel.size() + bytes > maxBytes;
    }

    /** @return the files that exist, oldest first ({@code name.<keep>} ... {@code name.1}, {@code name}) */
    List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (int i = keep; i >= 1; i--) {
            if (Files.exists(numbered(i))) {
                out.add(numbered(i));
            }
        }
        out.add(path);
        return out;
    }

    /** Makes everything appended so far durable (one fsync for the whole batch: group commit). */
    void sync() throws IOException {
        channel.force(false);
    }

    void rotate() throws IOException {
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
