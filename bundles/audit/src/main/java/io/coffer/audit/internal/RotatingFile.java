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
 * deleted — unless it is still needed (the JSON file is the audit spool: a file whose lines aren't shipped yet stays,
 * numbered past {@code keep}, up to {@code maxFiles}; only past that bound is it deleted, and loudly). Owner-only
 * permissions: audit lines name roles, resources and addresses. Used by the writer thread only.
 */
final class RotatingFile implements Closeable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RotatingFile.class);
    private final Path path;
    private final long maxBytes;
    private final int keep;
    private final int maxFiles;
    private final java.util.function.Predicate<Path> needed;
    private long droppedNeeded;
    private FileChannel channel;

    RotatingFile(Path path, long maxBytes, int keep) throws IOException {
        this(path, maxBytes, keep, keep, f -> false);
    }

    /**
     * @param maxFiles the most rotated files kept while they are still needed (at least {@code keep})
     * @param needed whether a rotated file must stay (its lines are not shipped yet)
     */
    RotatingFile(Path path, long maxBytes, int keep, int maxFiles, java.util.function.Predicate<Path> needed)
            throws IOException {
        this.path = path;
        this.maxBytes = maxBytes;
        this.keep = Math.max(1, keep);
        this.maxFiles = Math.max(this.keep, maxFiles);
        this.needed = needed;
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

    /** @return the files that exist, oldest first ({@code name.<n>} ... {@code name.1}, {@code name}) */
    List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (int i = highest(); i >= 1; i--) {
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
        for (int i = highest(); i >= 1; i--) {
            if (Files.exists(numbered(i))) {
                Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(path, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        open();
        // Oldest first: past keep, a file goes once nothing in it is needed; past maxFiles, it goes anyway.
        for (int i = highest(); i > keep; i--) {
            boolean stillNeeded = needed.test(numbered(i));
            if (stillNeeded && i <= maxFiles) {
                break;
            }
            if (stillNeeded) {
                droppedNeeded++;
                LOG.error("audit spool full ({} files): {} deleted before its lines were shipped", maxFiles,
                        numbered(i).getFileName());
            }
            Files.deleteIfExists(numbered(i));
        }
    }

    /** @return how many files were deleted while still needed (the spool bound was reached) */
    long droppedNeeded() {
        return droppedNeeded;
    }

    private int highest() {
        int i = keep;
        while (Files.exists(numbered(i + 1))) {
            i++;
        }
        return i;
    }

    Path numbered(int i) {
        return path.resolveSibling(path.getFileName() + "." + i);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
