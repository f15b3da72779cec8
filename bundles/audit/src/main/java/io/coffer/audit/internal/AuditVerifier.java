package io.coffer.audit.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import javax.crypto.Mac;

/**
 * Checks a node's audit chain ({@link Chain}, {@link Checkpoint}) across its JSON files, oldest first, and reports
 * what was tampered with. With the audit key it checks every line's MAC; with the public key, every checkpoint's
 * signature; with neither, the sequence and the checkpoints' links.
 *
 * <ul>
 * <li>An edited line, or one whose MAC was recomputed without the key: its MAC doesn't match ({@code EDITED}).</li>
 * <li>A deleted line: a sequence gap ({@code DELETED}); the chain breaks there too.</li>
 * <li>A truncated tail: detectable against an expected last seq only (the running writer's, the table's, a SIEM's
 * copy of a checkpoint) — the chain up to any line is valid on its own. Within the files: a rotated file whose tail
 * was cut shows against the next file's {@code rotate} checkpoint, and a tail cut while the node was down shows as a
 * {@code start} checkpoint saying the previous run didn't end with its {@code stop} checkpoint (also what a crash
 * looks like, so it is a warning).</li>
 * </ul>
 *
 * <p>Runs offline with the JDK alone: {@code java -cp io.coffer.audit-<version>.jar
 * io.coffer.audit.internal.AuditVerifier [--keys FILE] [--public-key HEX] [--expect-seq N] DIR|FILE...}.
 */
public final class AuditVerifier {
    /** What a finding is; {@code tamper} ones fail the verification, the others are warnings or notes. */
    enum Kind {
        EDITED(true), DELETED(true), TRUNCATED(true), REORDERED(true), MALFORMED(true), BAD_CHECKPOINT(true),
        UNKEYED(false), UNCLEAN_START(false), TORN(false), UNANCHORED(false), UNCHECKED_TAIL(false);

        final boolean tamper;

        Kind(boolean tamper) {
            this.tamper = tamper;
        }
    }

    record Finding(Kind kind, String where, String detail) {
        @Override
        public String toString() {
            return (kind.tamper ? "TAMPER " : "note   ") + kind + " " + where + ": " + detail;
        }
    }

    /** The outcome: what was read, what could be checked, and the findings in file order. */
    static final class Report {
        final List<Finding> findings = new ArrayList<>();
        long lines;
        long unchained;
        long firstSeq = -1;
        long lastSeq = -1;
        long checkpoints;
        long lastCheckpointSeq = -1;
        boolean macsChecked;
        boolean signaturesChecked;
        Long expected;
        String expectedFrom;

        boolean ok() {
            return findings.stream().noneMatch(f -> f.kind.tamper);
        }

        boolean has(Kind k) {
            return findings.stream().anyMatch(f -> f.kind == k);
        }

        void add(Kind k, String where, String detail) {
            findings.add(new Finding(k, where, detail));
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            b.append(ok() ? "OK" : "TAMPERED").append(": ").append(lines).append(" lines, chain seq ")
                    .append(firstSeq < 0 ? "-" : firstSeq + ".." + lastSeq).append(", ").append(checkpoints)
                    .append(" checkpoints (last at seq ").append(lastCheckpointSeq < 0 ? "-" : lastCheckpointSeq)
                    .append("); MACs ").append(macsChecked ? "checked" : "NOT checked (no audit key)")
                    .append(", signatures ").append(signaturesChecked ? "checked" : "NOT checked (no public key)")
                    .append(", expected last seq ").append(expected == null ? "unknown" : expected + " (" + expectedFrom + ")");
            if (unchained > 0) {
                b.append("; ").append(unchained).append(" lines from before the chain");
            }
            for (Finding f : findings) {
                b.append('\n').append(f);
            }
            return b.toString();
        }
    }

    private final Mac mac;
    private final byte[] publicKey;
    private final Report r = new Report();
    private byte[] prev;
    private long prevSeq = -1;
    private boolean keyedSeen;
    private String malformedAt;
    private long unkeyedFrom = -1;

    private AuditVerifier(Mac mac, byte[] publicKey) {
        this.mac = mac;
        this.publicKey = publicKey;
        r.macsChecked = mac != null;
        r.signaturesChecked = publicKey != null;
    }

    /**
     * @param files the JSON files, oldest first
     * @param mac the chain key's HMAC, or {@code null}
     * @param publicKey the raw Ed25519 checkpoint key, or {@code null}
     * @param expected the seq the files must reach, or {@code null} when unknown
     * @param expectedFrom where {@code expected} comes from, for the report
     */
    static Report verify(List<Path> files, Mac mac, byte[] publicKey, Long expected, String expectedFrom)
            throws IOException {
        AuditVerifier v = new AuditVerifier(mac, publicKey);
        v.r.expected = expected;
        v.r.expectedFrom = expectedFrom;
        for (int i = 0; i < files.size(); i++) {
            v.file(files.get(i), i == files.size() - 1);
        }
        v.end();
        return v.r;
    }

    private void file(Path file, boolean newest) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size(); // what is appended while we read is not ours to judge
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
            ByteArrayOutputStream line = new ByteArrayOutputStream(512);
            long read = 0;
            int lineNo = 0;
            boolean first = true;
            int c;
            while (read < size && (c = in.read()) >= 0) {
                read++;
                if (c != '\n') {
                    line.write(c);
                    continue;
                }
                lineNo++;
                line(file.getFileName() + ":" + lineNo, line.toString(StandardCharsets.UTF_8), first);
                first = false;
                line.reset();
            }
            if (line.size() > 0) {
                String where = file.getFileName() + ":" + (lineNo + 1);
                if (newest) {
                    r.add(Kind.TORN, where, "a partial last line (being written, or a crash mid-write): not checked");
                } else {
                    r.add(Kind.MALFORMED, where, "a rotated file ends with a partial line");
                }
            }
        }
    }

    private void line(String where, String line, boolean firstInFile) {
        r.lines++;
        Chain.Link link = Chain.parse(line);
        if (link == null) {
            if (prevSeq < 0) {
                r.unchained++; // written before the chain existed
            } else if (malformedAt == null) {
                malformedAt = where;
            }
            return;
        }
        Map<String, Object> json;
        try {
            json = Json.object(line);
        } catch (IllegalArgumentException e) {
            json = null;
            r.add(Kind.MALFORMED, where + " seq " + link.seq(), "chain fields on a line that isn't valid JSON: edited");
        }
        Checkpoint.Fields cp = json == null ? null : Checkpoint.from(json);
        boolean signed = cp != null && publicKey != null && Checkpoint.verify(publicKey, cp);
        if (malformedAt != null) {
            boolean tornBefore = cp != null && "start".equals(cp.reason()) && "torn".equals(cp.previous());
            r.add(tornBefore ? Kind.TORN : Kind.MALFORMED, malformedAt, tornBefore
                    ? "a partial line from a crash mid-write (the next start checkpoint says so)"
                    : "a line without chain fields inside the chain: inserted or edited");
            malformedAt = null;
        }
        byte[] expectedPrev = null;
        boolean gap = false;
        if (prevSeq < 0) {
            r.firstSeq = link.seq();
            if (link.seq() == 1) {
                expectedPrev = Chain.GENESIS;
            } else if (cp != null && cp.seq() == link.seq() - 1 && signed) {
                expectedPrev = hex(cp.mac()); // a signed rotate checkpoint anchors the first file left
            } else {
                r.add(Kind.UNANCHORED, where, "the chain starts at seq " + link.seq()
                        + " (older files rotated away); this line's link can't be checked");
            }
        } else if (link.seq() == prevSeq + 1) {
            expectedPrev = prev;
        } else if (link.seq() > prevSeq + 1) {
            gap = true;
            if (firstInFile && cp != null && "rotate".equals(cp.reason()) && cp.seq() == link.seq() - 1) {
                r.add(Kind.TRUNCATED, where, "the previous file ends at seq " + prevSeq + " but this file's rotate "
                        + "checkpoint says it ended at seq " + cp.seq() + ": its tail (seq " + (prevSeq + 1) + ".."
                        + cp.seq() + ") was cut");
                expectedPrev = signed ? hex(cp.mac()) : null;
            } else {
                r.add(Kind.DELETED, where, "seq " + (prevSeq + 1) + (link.seq() - 1 > prevSeq + 1 ? ".." + (link.seq() - 1)
                        : "") + " missing: lines deleted");
            }
        } else {
            gap = true;
            r.add(Kind.REORDERED, where, "seq " + link.seq() + " after seq " + prevSeq
                    + ": lines moved, duplicated, or a chain restarted");
        }
        checkLink(where, link, expectedPrev);
        if (cp != null) {
            checkpoint(where, link, cp, signed, gap);
        }
        prev = link.value();
        prevSeq = link.seq();
        r.lastSeq = link.seq();
    }

    private void checkLink(String where, Chain.Link link, byte[] expectedPrev) {
        if (link.keyed()) {
            keyedSeen = true;
            closeUnkeyed(where);
        } else if (unkeyedFrom < 0) {
            unkeyedFrom = link.seq();
        }
        if (expectedPrev == null || (link.keyed() && mac == null)) {
            return;
        }
        byte[] computed = Chain.link(link.keyed() ? mac : null, expectedPrev, link.canonical());
        if (!MessageDigest.isEqual(computed, link.value())) {
            r.add(Kind.EDITED, where + " seq " + link.seq(), link.keyed()
                    ? "its MAC doesn't match: the line (or the one before it) was changed, or its MAC recomputed "
                            + "without the audit key"
                    : "its hash doesn't match: the line (or the one before it) was changed");
        }
    }

    private void closeUnkeyed(String where) {
        if (unkeyedFrom >= 0) {
            r.add(Kind.UNKEYED, where, "seq " + unkeyedFrom + ".." + prevSeq + " were written while the node's keys "
                    + "were locked (hash links): they are covered by this keyed line from here on");
            unkeyedFrom = -1;
        }
    }

    private void checkpoint(String where, Chain.Link link, Checkpoint.Fields cp, boolean signed, boolean gap) {
        r.checkpoints++;
        r.lastCheckpointSeq = link.seq();
        if (publicKey != null && !signed) {
            r.add(Kind.BAD_CHECKPOINT, where, "its signature doesn't verify: forged or edited (or another node's "
                    + "key)");
        }
        if (cp.seq() != link.seq() - 1) {
            r.add(Kind.BAD_CHECKPOINT, where, "it covers seq " + cp.seq() + " but follows seq " + (link.seq() - 1));
        } else if (prev != null && !gap && !Chain.HEX.formatHex(prev).equals(cp.mac())) {
            r.add(Kind.BAD_CHECKPOINT, where, "it covers a link the line before it doesn't have: lines before it "
                    + "were changed");
        }
        if ("start".equals(cp.reason()) && ("unclean".equals(cp.previous()) || "torn".equals(cp.previous()))) {
            r.add(Kind.UNCLEAN_START, where, "the run before seq " + link.seq() + " ended without its stop "
                    + "checkpoint: a crash or kill, or lines cut from the tail while the node was down");
        }
    }

    private void end() {
        if (malformedAt != null) {
            r.add(Kind.MALFORMED, malformedAt, "lines without chain fields after the chain: appended or edited");
        }
        if (unkeyedFrom >= 0 && keyedSeen) {
            r.add(Kind.UNKEYED, "end", "seq " + unkeyedFrom + ".." + prevSeq + " at the end are hash-linked only "
                    + "(written while the keys were locked): nothing keyed covers them yet");
        }
        if (r.expected != null && prevSeq < r.expected) {
            r.add(Kind.TRUNCATED, "end", "the files end at seq " + prevSeq + " but " + r.expectedFrom + " says seq "
                    + r.expected + " was written: seq " + (prevSeq + 1) + ".." + r.expected + " were cut from the tail");
        } else if (r.expected == null && prevSeq > r.lastCheckpointSeq) {
            r.add(Kind.UNCHECKED_TAIL, "end", (prevSeq - Math.max(r.lastCheckpointSeq, 0)) + " lines after the last "
                    + "checkpoint: without an expected last seq, a tail cut back to any line can't be told apart");
        }
    }

    private static byte[] hex(String s) {
        try {
            return s == null || s.length() != 64 ? null : Chain.HEX.parseHex(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A node's JSON files in a directory, oldest first. */
    static List<Path> filesIn(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 1000; i >= 1; i--) {
            Path p = dir.resolve(AuditWriter.JSON_FILE + "." + i);
            if (Files.exists(p)) {
                out.add(p);
            }
        }
        out.add(dir.resolve(AuditWriter.JSON_FILE));
        return out;
    }

    /** Offline: exit 0 when nothing was tampered with, 1 when something was, 2 on a usage or read error. */
    public static void main(String[] args) {
        try {
            Mac mac = null;
            byte[] pub = null;
            Long expected = null;
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--keys": {
                        Properties p = new Properties();
                        try (InputStream in = Files.newInputStream(Path.of(args[++i]))) {
                            p.load(in);
                        }
                        mac = Chain.mac(Chain.HEX.parseHex(p.getProperty("mac", "")));
                        pub = Chain.HEX.parseHex(p.getProperty("public", ""));
                        break;
                    }
                    case "--public-key": pub = Chain.HEX.parseHex(args[++i]); break;
                    case "--expect-seq": expected = Long.parseLong(args[++i]); break;
                    default:
                        Path p = Path.of(args[i]);
                        files.addAll(Files.isDirectory(p) ? filesIn(p) : List.of(p));
                }
            }
            if (files.isEmpty()) {
                System.err.println("usage: AuditVerifier [--keys FILE] [--public-key HEX] [--expect-seq N] DIR|FILE...");
                System.exit(2);
            }
            Report rep = verify(files, mac, pub, expected, "--expect-seq");
            System.out.println(rep);
            System.exit(rep.ok() ? 0 : 1);
        } catch (IOException | RuntimeException e) {
            System.err.println("audit-verify: " + e);
            System.exit(2);
        }
    }
}
