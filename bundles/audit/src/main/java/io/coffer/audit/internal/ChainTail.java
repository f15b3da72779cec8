package io.coffer.audit.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Where the chain stands in the files a writer takes over: the newest line that carries chain fields, and what the
 * end of the files says about the previous run. The start checkpoint records that ({@code previous}): {@code none}
 * (no files: a new chain), {@code stop} (the previous run ended with its stop checkpoint), {@code unclean} (it
 * didn't: a crash, a kill, or a tail cut off while the node was down), {@code torn} (a partial last line: a crash
 * mid-write), {@code unchained} (only lines from before the chain existed).
 */
record ChainTail(long seq, byte[] link, String previous, boolean torn) {
    /** How far back from the end the last chained line is looked for. */
    static final int WINDOW = 1 << 20;

    /** @param files the JSON files, oldest first; the newest non-empty one is read */
    static ChainTail read(List<Path> files) throws IOException {
        for (int i = files.size() - 1; i >= 0; i--) {
            Path f = files.get(i);
            if (Files.exists(f) && Files.size(f) > 0) {
                return of(f);
            }
        }
        return new ChainTail(0, Chain.GENESIS, "none", false);
    }

    private static ChainTail of(Path file) throws IOException {
        String text;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long from = Math.max(0, size - WINDOW);
            ByteBuffer buf = ByteBuffer.allocate((int) (size - from));
            while (buf.hasRemaining() && ch.read(buf, from + buf.position()) > 0) {
                // read the window
            }
            text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        }
        boolean torn = !text.endsWith("\n");
        String[] lines = text.split("\n", -1);
        // The last element is "" after a final newline, or the torn fragment; the first may be cut by the window.
        boolean last = true;
        for (int i = lines.length - 2; i >= 0; i--) {
            Chain.Link link = Chain.parse(lines[i]);
            if (link == null) {
                last = false;
                continue;
            }
            String previous = torn ? "torn" : last && isStop(lines[i]) ? "stop" : "unclean";
            return new ChainTail(link.seq(), link.value(), previous, torn);
        }
        return new ChainTail(0, Chain.GENESIS, torn ? "torn" : "unchained", torn);
    }

    private static boolean isStop(String line) {
        try {
            Checkpoint.Fields f = Checkpoint.from(Json.object(line));
            return f != null && "stop".equals(f.reason());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
