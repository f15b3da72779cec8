package io.coffer.audit.command;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.audit.internal.AuditComponent;

/**
 * {@code coffer:audit-tail [-n N] [-f]}: this node's newest audit events as RFC 5424 lines (its own {@code audit.log},
 * so it works on every node, Followers included); {@code -f} follows new ones until interrupted.
 */
@Service
@Command(scope = "coffer", name = "audit-tail", description = "Print this node's newest audit events (RFC 5424)")
public class AuditTailCommand implements Action {
    @Reference
    private AuditComponent audit;

    @Option(name = "-n", aliases = "--lines", description = "How many events (default 20)")
    int lines = 20;

    @Option(name = "-f", aliases = "--follow", description = "Keep printing new events until interrupted")
    boolean follow;

    @Override
    public Object execute() throws Exception {
        if (lines < 0 || lines > 100_000) {
            throw new IllegalArgumentException("-n must be from 0 to 100000");
        }
        Path file = audit.textFile();
        long at = printLast(file, lines);
        while (follow && !Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                break;
            }
            long size = Files.exists(file) ? Files.size(file) : 0;
            if (size < at) {
                at = 0; // rotated: the new file from its start
            }
            at = printFrom(file, at);
        }
        return null;
    }

    /** @return the file's length read */
    private static long printLast(Path file, int n) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long end = f.length();
            Deque<String> last = new ArrayDeque<>();
            // Read backwards in blocks until n complete lines are seen.
            long pos = end;
            byte[] tail = new byte[0];
            while (pos > 0 && count(tail) <= n) {
                int len = (int) Math.min(64 * 1024, pos);
                pos -= len;
                byte[] block = new byte[len + tail.length];
                f.seek(pos);
                f.readFully(block, 0, len);
                System.arraycopy(tail, 0, block, len, tail.length);
                tail = block;
            }
            String[] all = new String(tail, StandardCharsets.UTF_8).split("\n");
            for (int i = all.length - 1; i >= 0 && last.size() < n; i--) {
                if (!all[i].isEmpty() && (i > 0 || pos == 0)) {
                    last.addFirst(all[i]);
                }
            }
            last.forEach(System.out::println);
            return end;
        }
    }

    private static int count(byte[] b) {
        int c = 0;
        for (byte x : b) {
            c += x == '\n' ? 1 : 0;
        }
        return c;
    }

    private static long printFrom(Path file, long from) throws IOException {
        if (!Files.exists(file)) {
            return from;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long end = f.length();
            if (end <= from) {
                return from;
            }
            byte[] b = new byte[(int) Math.min(end - from, 8 * 1024 * 1024)];
            f.seek(from);
            f.readFully(b);
            int lastNewline = -1;
            for (int i = b.length - 1; i >= 0; i--) {
                if (b[i] == '\n') {
                    lastNewline = i;
                    break;
                }
            }
            if (lastNewline < 0) {
                return from; // a line still being written
            }
            System.out.print(new String(b, 0, lastNewline + 1, StandardCharsets.UTF_8));
            System.out.flush();
            return from + lastNewline + 1;
        }
    }
}
