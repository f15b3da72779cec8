package io.coffer.audit.internal;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Reads a node's chained JSON lines in order from any seq on: the audit files are the spool, so nothing is copied
 * while the destination is away, and a restart goes on from the files. It follows the live file as it grows and
 * across rotations (a rotated file keeps its inode, so it is read to its end before the next one), and returns only
 * whole lines; where a seq is, is found from each file's first line (a rotated-to file starts with a checkpoint).
 * Not thread-safe: the shipper's thread owns it.
 */
final class SpoolReader implements Closeable {
    private static final int CHUNK = 64 * 1024;
    /** A line longer than this is no line the writer makes: it is skipped (the receiver would refuse it). */
    private static final int MAX_LINE = 4 * 1024 * 1024;

    record Line(long seq, String text) {
    }

    private final Supplier<List<Path>> files;
    private final Path live;
    private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final ArrayDeque<Line> pending = new ArrayDeque<>();
    private FileChannel channel;
    private Object channelKey;
    private boolean overlong;
    /** Lines below this seq are skipped. */
    private long wanted = 1;
    /** The highest seq read from the files (pending or returned). */
    private long lastRead;

    /** @param files the JSON files, oldest first, the live one last */
    SpoolReader(Supplier<List<Path>> files, Path live) {
        this.files = files;
        this.live = live;
    }

    /** Positions the reader so that the next line returned is the first one with a seq of at least {@code seq}. */
    void seek(long seq) throws IOException {
        close();
        pending.clear();
        partial.reset();
        wanted = Math.max(1, seq);
        lastRead = wanted - 1;
        Path from = null;
        for (Path f : files.get()) {
            long first = firstSeq(f);
            if (from == null || first > 0 && first <= wanted) {
                from = f;
            }
        }
        if (from != null) {
            open(from);
        }
    }

    /**
     * @param max the most lines returned
     * @param upTo the highest seq that may be returned (what the writer has made durable)
     * @return the next consecutive lines (possibly with gaps where lines were lost), at most {@code max}
     */
    List<Line> next(int max, long upTo) throws IOException {
        while (pending.size() < max && fill()) {
            // read until enough lines or the end of the files
        }
        List<Line> out = new ArrayList<>(Math.min(max, pending.size()));
        while (out.size() < max && !pending.isEmpty() && pending.peekFirst().seq() <= upTo) {
            out.add(pending.pollFirst());
        }
        return out;
    }

    /** @return whether anything was read */
    private boolean fill() throws IOException {
        if (channel == null) {
            Path first = files.get().stream().filter(Files::exists).findFirst().orElse(null);
            if (first == null) {
                return false;
            }
            open(first);
        }
        if (read()) {
            return true;
        }
        // At the end. A file that is no longer the live one gets no more lines: read what came before it was
        // renamed, then go on in the file after it.
        Object liveKey = key(live);
        if (Objects.equals(liveKey, channelKey)) {
            return false;
        }
        while (read()) {
            // drain
        }
        long resume = lastRead + 1;
        Path nextFile = null;
        for (Path f : files.get()) {
            long first = firstSeq(f);
            if (first > lastRead && !Objects.equals(key(f), channelKey)) {
                nextFile = f;
                break;
            }
        }
        if (nextFile == null) {
            return false;
        }
        close();
        partial.reset(); // a torn line at the end of a finished file is no event
        wanted = Math.max(wanted, resume);
        open(nextFile);
        return true;
    }

    private boolean read() throws IOException {
        buffer.clear();
        int n = channel.read(buffer);
        if (n <= 0) {
            return false;
        }
        byte[] a = buffer.array();
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (a[i] == '\n') {
                line(a, start, i);
                start = i + 1;
            }
        }
        if (start < n) {
            if (partial.size() + (n - start) > MAX_LINE) {
                overlong = true;
                partial.reset();
            } else {
                partial.write(a, start, n - start);
            }
        }
        return true;
    }

    private void line(byte[] a, int from, int to) {
        String text;
        if (partial.size() > 0) {
            partial.write(a, from, to - from);
            text = partial.toString(StandardCharsets.UTF_8);
            partial.reset();
        } else {
            text = new String(a, from, to - from, StandardCharsets.UTF_8);
        }
        if (overlong) {
            overlong = false;
            return;
        }
        Chain.Link link = Chain.parse(text);
        if (link == null || link.seq() < wanted) {
            return; // not chained (a torn fragment, a line from before the chain), or already past
        }
        pending.addLast(new Line(link.seq(), text));
        lastRead = Math.max(lastRead, link.seq());
    }

    private void open(Path f) throws IOException {
        // The key is read around the open: a rotation in between would pair this channel with the next file's key.
        for (int attempt = 0; attempt < 5; attempt++) {
            Object before = key(f);
            try {
                channel = FileChannel.open(f, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                channel = null; // rotated away between listing and opening: the next fill lists again
                return;
            }
            if (before != null && before.equals(key(f))) {
                channelKey = before;
                return;
            }
            close();
        }
    }

    /** @return the seq of the file's first chained line, 0 when it has none in its first lines */
    static long firstSeq(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(CHUNK);
            ch.read(b);
            String head = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            for (String line : head.split("\n")) {
                Chain.Link link = Chain.parse(line);
                if (link != null) {
                    return link.seq();
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    private static Object key(Path f) {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
            channelKey = null;
        }
    }
}
