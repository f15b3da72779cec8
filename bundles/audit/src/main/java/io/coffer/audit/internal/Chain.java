package io.coffer.audit.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The node's audit chain over its JSON lines. Every line carries a sequence number and a link:
 * {@code link(n) = HMAC-SHA256(audit key, link(n-1) ‖ canonical(n))}, where the canonical line is the stored line
 * without its link field ({@code {...,"seq":n}}), and {@code link(0)} is 32 zero bytes. The stored line ends
 * {@code ,"seq":n,"mac":"<hex>"}}. While the node's keys are locked there is no audit key: the link is then
 * {@code SHA-256(link(n-1) ‖ canonical(n))}, stored as {@code "hash"}, so the next keyed line still covers it.
 * Not thread-safe: the writer thread owns the state.
 */
final class Chain {
    static final byte[] GENESIS = new byte[32];
    static final HexFormat HEX = HexFormat.of();
    private static final Pattern SUFFIX = Pattern.compile(",\"seq\":([1-9][0-9]{0,18}),\"(mac|hash)\":\"([0-9a-f]{64})\"}");

    /** A stored line's chain fields. */
    record Link(long seq, boolean keyed, byte[] value, String canonical) {
    }

    private long seq;
    private byte[] link;

    Chain(long seq, byte[] link) {
        this.seq = seq;
        this.link = link.clone();
    }

    long seq() {
        return seq;
    }

    /** Back to an earlier position (a batch that wasn't written). */
    void reset(long toSeq, byte[] toLink) {
        seq = toSeq;
        link = toLink.clone();
    }

    byte[] link() {
        return link.clone();
    }

    /**
     * Takes the next position for an unchained JSON object line.
     *
     * @param json one JSON object, ending with {@code }}
     * @param mac the audit key's HMAC, or {@code null} while the keys are locked
     * @return the line as stored
     */
    String append(String json, Mac mac) {
        long n = seq + 1;
        String head = json.substring(0, json.length() - 1) + ",\"seq\":" + n;
        byte[] next = link(mac, link, head + "}");
        seq = n;
        link = next;
        return head + (mac != null ? ",\"mac\":\"" : ",\"hash\":\"") + HEX.formatHex(next) + "\"}";
    }

    /** @return a fresh HMAC-SHA256 under {@code key} (a {@code Mac} is not thread-safe) */
    static Mac mac(byte[] key) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** @return the link of {@code canonical} after {@code previous}: keyed when {@code mac} is given */
    static byte[] link(Mac mac, byte[] previous, String canonical) {
        byte[] bytes = canonical.getBytes(StandardCharsets.UTF_8);
        if (mac != null) {
            mac.update(previous);
            return mac.doFinal(bytes);
        }
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(previous);
            return d.digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the chain fields of a stored line, or {@code null} when it has none */
    static Link parse(String line) {
        // A raw quote can't occur inside a JSON string value, so the last ,"seq": is the chain's own field.
        int at = line.lastIndexOf(",\"seq\":");
        Matcher m = SUFFIX.matcher(line);
        if (at < 0 || !m.region(at, line.length()).matches()) {
            return null;
        }
        long seq;
        try {
            seq = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return null;
        }
        return new Link(seq, m.group(2).equals("mac"), HEX.parseHex(m.group(3)),
                line.substring(0, at) + ",\"seq\":" + seq + "}");
    }
}
