package io.coffer.audit.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import javax.crypto.Mac;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.coffer.audit.internal.AuditVerifier.Kind;

/** The tamper-evident chain: what the writer writes, and what the verifier finds when the files are tampered with. */
public class AuditChainTest {
    private static final byte[] MAC_KEY = new byte[32];
    private static final byte[] SEED = new byte[32];
    static {
        for (int i = 0; i < 32; i++) {
            MAC_KEY[i] = (byte) i;
            SEED[i] = (byte) (100 + i);
        }
    }
    private static final ChainKeys KEYS = new ChainKeys(MAC_KEY, SEED);

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static AuditWriter writer(Path dir, long maxBytes, int checkpointEvents, ChainKeys keys) throws Exception {
        return new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 100, maxBytes, 20, checkpointEvents, 60_000),
                "n1", () -> keys, () -> { });
    }

    private static void write(AuditWriter w, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            w.record(AuditWriterTest.fetch("acct:variable:chain/" + i));
            if (i % 7 == 0) {
                drained(w); // several batches, not one
            }
        }
        drained(w);
    }

    private static void drained(AuditWriter w) throws InterruptedException {
        for (int i = 0; i < 1000 && ((Number) w.health().details().get("queue_depth")).intValue() > 0; i++) {
            Thread.sleep(5);
        }
    }

    private static AuditVerifier.Report verify(Path dir, Long expected) throws Exception {
        return AuditVerifier.verify(AuditVerifier.filesIn(dir), KEYS.mac(), KEYS.publicKey(), expected, "the test");
    }

    /** Ten events written and the writer stopped: start checkpoint, events, a periodic one, stop. */
    private Path written(int events, int checkpointEvents) throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 1 << 20, checkpointEvents, KEYS);
        write(w, 0, events);
        w.stop();
        return dir;
    }

    private static List<String> lines(Path dir) throws Exception {
        return new ArrayList<>(Files.readAllLines(dir.resolve(AuditWriter.JSON_FILE)));
    }

    private static void rewrite(Path dir, List<String> lines) throws Exception {
        Files.writeString(dir.resolve(AuditWriter.JSON_FILE), String.join("\n", lines) + "\n");
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        throw new AssertionError(text + " not in the file");
    }

    @Test
    public void anUntouchedChainVerifiesWithSeqMacsAndSignedCheckpoints() throws Exception {
        Path dir = written(20, 8);
        List<String> lines = lines(dir);
        // start + 20 events + 2 periodic (after 8 and 16) + stop
        assertEquals(24, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            Chain.Link l = Chain.parse(lines.get(i));
            assertEquals(i + 1, l.seq());
            assertTrue(l.keyed());
        }
        assertTrue(lines.get(0), lines.get(0).contains("\"reason\":\"start\",\"seq\":\"0\""));
        assertTrue(lines.get(0), lines.get(0).contains("\"previous\":\"none\""));
        assertTrue(lines.get(23), lines.get(23).contains("\"reason\":\"stop\",\"seq\":\"23\""));
        AuditVerifier.Report r = verify(dir, 24L);
        assertTrue(r.toString(), r.ok());
        assertEquals(r.toString(), 0, r.findings.size());
        assertEquals(4, r.checkpoints);
        // The text file carries the checkpoints too (what a SIEM receives).
        String text = Files.readString(dir.resolve(AuditWriter.TEXT_FILE));
        assertTrue(text, text.contains("audit-checkpoint [checkpoint@43868 node=\"n1\" reason=\"start\""));
    }

    /** Replaces {@code from} by {@code to} in the first line holding {@code from}; @return that line's index */
    private static int edit(Path dir, String from, String to) throws Exception {
        List<String> lines = lines(dir);
        int i = indexOf(lines, from);
        lines.set(i, lines.get(i).replace(from, to));
        rewrite(dir, lines);
        return i;
    }

    @Test
    public void anEditedLineIsFound() throws Exception {
        Path dir = written(10, 1000);
        int i = edit(dir, "fetched acct:variable:chain/4\"", "fetched acct:variable:chain/X\"");
        AuditVerifier.Report r = verify(dir, null);
        assertFalse(r.toString(), r.ok());
        assertEquals(r.toString(), Kind.EDITED, r.findings.get(0).kind());
        assertTrue(r.toString(), r.findings.get(0).where().endsWith("seq " + (i + 1)));
    }

    @Test
    public void anEditedLineWithItsMacRecomputedWithoutTheKeyIsFound() throws Exception {
        Path dir = written(10, 1000);
        List<String> lines = lines(dir);
        int i = indexOf(lines, "fetched acct:variable:chain/4\"");
        byte[] prev = Chain.parse(lines.get(i - 1)).value();
        String edited = lines.get(i).replace("127.0.0.1", "10.9.9.9");
        Chain.Link l = Chain.parse(edited);
        // The attacker recomputes the link the only ways open without the key: a guessed key, or a plain hash.
        Mac guessed = Chain.mac(new byte[32]);
        String head = edited.substring(0, edited.lastIndexOf(",\"mac\":"));
        lines.set(i, head + ",\"mac\":\"" + Chain.HEX.formatHex(Chain.link(guessed, prev, l.canonical())) + "\"}");
        rewrite(dir, lines);
        AuditVerifier.Report r = verify(dir, null);
        assertFalse(r.toString(), r.ok());
        assertEquals(r.toString(), Kind.EDITED, r.findings.get(0).kind());

        lines.set(i, head + ",\"hash\":\"" + Chain.HEX.formatHex(Chain.link(null, prev, l.canonical())) + "\"}");
        rewrite(dir, lines);
        r = verify(dir, null);
        assertFalse("a MAC swapped for a plain hash breaks the next line: " + r, r.ok());
        assertTrue(r.toString(), r.has(Kind.EDITED));
    }

    @Test
    public void aDeletedLineIsFound() throws Exception {
        Path dir = written(10, 1000);
        List<String> lines = lines(dir);
        lines.remove(indexOf(lines, "fetched acct:variable:chain/4\""));
        rewrite(dir, lines);
        AuditVerifier.Report r = verify(dir, null);
        assertFalse(r.toString(), r.ok());
        assertEquals(r.toString(), Kind.DELETED, r.findings.get(0).kind());
        assertTrue(r.toString(), r.findings.get(0).detail().startsWith("seq 6 missing"));
    }

    @Test
    public void aTruncatedTailIsFoundAgainstTheExpectedSeqAndAtTheNextStart() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 1 << 20, 1000, KEYS);
        write(w, 0, 10);
        long written = w.lastSeq();
        // Cut while the writer runs: the live writer's seq is the witness.
        List<String> lines = lines(dir);
        rewrite(dir, lines.subList(0, lines.size() - 3));
        AuditVerifier.Report r = verify(dir, written);
        assertFalse(r.toString(), r.ok());
        assertEquals(r.toString(), Kind.TRUNCATED, r.findings.get(0).kind());
        // The next line written shows it too, as a gap.
        write(w, 10, 11);
        assertTrue(verify(dir, null).toString(), verify(dir, null).has(Kind.DELETED));
        w.stop();

        // Cut while the node is down (the stop checkpoint goes with the tail): the next start says so.
        Path down = written(10, 1000);
        lines = lines(down);
        long stopped = lines.size();
        rewrite(down, lines.subList(0, lines.size() - 4));
        assertFalse(verify(down, stopped).ok());
        AuditVerifier.Report noWitness = verify(down, null);
        assertTrue("without a witness the cut tail itself is not provable: " + noWitness, noWitness.ok());
        assertTrue(noWitness.toString(), noWitness.has(Kind.UNCHECKED_TAIL));
        AuditWriter again = writer(down, 1 << 20, 1000, KEYS);
        write(again, 10, 12);
        again.stop();
        AuditVerifier.Report after = verify(down, null);
        assertTrue(after.toString(), after.has(Kind.UNCLEAN_START));
        assertTrue(lines(down).stream().anyMatch(l -> l.contains("\"previous\":\"unclean\"")));
    }

    @Test
    public void aRestartContinuesTheChainAfterACleanStop() throws Exception {
        Path dir = written(5, 1000);
        AuditWriter w = writer(dir, 1 << 20, 1000, KEYS);
        write(w, 5, 10);
        w.stop();
        List<String> lines = lines(dir);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"previous\":\"stop\"")));
        AuditVerifier.Report r = verify(dir, (long) lines.size());
        assertTrue(r.toString(), r.ok());
        assertEquals(r.toString(), 0, r.findings.size());
    }

    @Test
    public void rotationKeepsTheChainAndEachFileIsAnchored() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AuditWriter w = writer(dir, 3_000, 1000, KEYS);
        write(w, 0, 60);
        w.stop();
        List<Path> files = AuditVerifier.filesIn(dir);
        assertTrue("rotated: " + files, files.size() >= 4);
        String first = Files.readAllLines(files.get(1)).get(0);
        assertTrue(first, first.contains("\"reason\":\"rotate\""));
        AuditVerifier.Report r = verify(dir, w.lastSeq());
        assertTrue(r.toString(), r.ok());
        assertEquals(r.toString(), 0, r.findings.size());

        // The oldest file gone (retention): the next one starts with a signed rotate checkpoint, an anchor.
        Files.delete(files.get(0));
        r = verify(dir, w.lastSeq());
        assertTrue(r.toString(), r.ok());
        assertEquals(r.toString(), 0, r.findings.size());

        // A rotated file's tail cut: the next file's rotate checkpoint says where it ended.
        Path middle = files.get(2);
        List<String> m = Files.readAllLines(middle);
        Files.writeString(middle, String.join("\n", m.subList(0, m.size() - 2)) + "\n");
        r = verify(dir, w.lastSeq());
        assertFalse(r.toString(), r.ok());
        assertEquals(r.toString(), Kind.TRUNCATED, r.findings.get(0).kind());
        assertTrue(r.toString(), r.findings.get(0).where().startsWith(files.get(3).getFileName() + ":1"));
    }

    @Test
    public void aForgedCheckpointIsFound() throws Exception {
        Path dir = written(10, 5);
        edit(dir, "\"reason\":\"periodic\"", "\"reason\":\"stop\"");
        AuditVerifier.Report r = verify(dir, null);
        assertTrue(r.toString(), r.has(Kind.BAD_CHECKPOINT));
        assertTrue(r.toString(), r.has(Kind.EDITED));
    }

    @Test
    public void eventsWrittenWhileLockedAreHashLinkedThenCoveredOnceKeysCome() throws Exception {
        Path dir = tmp.newFolder().toPath();
        AtomicReference<ChainKeys> keys = new AtomicReference<>();
        AuditWriter w = new AuditWriter(dir, new AuditWriter.Settings(1000, 50, 100, 1 << 20, 3, 1000, 60_000), "n1",
                keys::get, () -> { });
        write(w, 0, 3);
        keys.set(KEYS);
        write(w, 3, 6);
        w.stop();
        List<String> lines = lines(dir);
        assertTrue(lines.get(0), lines.get(0).contains("\"hash\":"));
        assertTrue(lines.get(3), lines.get(3).contains("\"reason\":\"start\""));
        AuditVerifier.Report r = verify(dir, (long) lines.size());
        assertTrue(r.toString(), r.ok());
        assertTrue(r.toString(), r.has(Kind.UNKEYED));
        // Editing an unkeyed line is caught by the keyed line after it.
        lines.set(1, lines.get(1).replace("chain/1", "chain/Z"));
        rewrite(dir, lines);
        assertTrue(verify(dir, null).has(Kind.EDITED));
    }

    @Test
    public void withoutTheKeyTheSequenceAndCheckpointsStillShowDeletions() throws Exception {
        Path dir = written(10, 1000);
        List<String> lines = lines(dir);
        lines.remove(3);
        rewrite(dir, lines);
        AuditVerifier.Report r = AuditVerifier.verify(AuditVerifier.filesIn(dir), null, null, null, null);
        assertFalse(r.macsChecked);
        assertTrue(r.toString(), r.has(Kind.DELETED));
    }

    @Test
    public void aTornLastLineIsEndedAndReportedAsACrash() throws Exception {
        Path dir = written(5, 1000);
        Files.write(dir.resolve(AuditWriter.JSON_FILE), "{\"id\":\"half".getBytes(StandardCharsets.UTF_8),
                java.nio.file.StandardOpenOption.APPEND);
        AuditWriter w = writer(dir, 1 << 20, 1000, KEYS);
        write(w, 5, 7);
        w.stop();
        AuditVerifier.Report r = verify(dir, null);
        assertTrue(r.toString(), r.ok());
        assertTrue(r.toString(), r.has(Kind.TORN));
    }
}
