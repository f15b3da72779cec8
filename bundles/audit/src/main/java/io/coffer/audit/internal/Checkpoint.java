package io.coffer.audit.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

import io.coffer.api.audit.AuditEvent;

/**
 * A signed checkpoint: an audit event the writer puts into the chain itself ({@code audit-checkpoint}), so it
 * reaches every destination (the files, the table, later the Leader and the SIEM) like any event. It attests that
 * the line before it has sequence number {@code seq} and link {@code mac}, and says why it was written:
 * {@code start} (with what the writer found at the end of the file: {@code previous}), {@code periodic},
 * {@code rotate} (the first line of a new file), {@code stop} (the last line of a clean shutdown).
 *
 * <p>The signature is Ed25519 over a fixed text of those fields, with a key derived from the root key; verifying
 * needs only the public key, so a SIEM or an offline check can trust a checkpoint without being able to forge one.
 * This class verifies with the JDK alone (the offline verifier runs without Bouncy Castle).
 */
final class Checkpoint {
    static final String MSGID = "audit-checkpoint";
    static final String SD = "checkpoint" + AuditEvent.PEN;
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410) in front of the raw 32-byte key. */
    private static final byte[] SPKI_PREFIX = Chain.HEX.parseHex("302a300506032b6570032100");

    /** A checkpoint's fields as written. {@code previous} is set on {@code start} checkpoints only. */
    record Fields(String node, String reason, long seq, String mac, String previous, String time, String key,
            String sig) {
        byte[] signedBytes() {
            return ("coffer-audit-checkpoint-v1\n" + node + "\n" + reason + "\n" + seq + "\n" + mac + "\n"
                    + (previous == null ? "" : previous) + "\n" + time).getBytes(StandardCharsets.UTF_8);
        }
    }

    private Checkpoint() {
    }

    /** @return the checkpoint as an event; {@code f.time} must be {@code time} as the files render it */
    static AuditEvent event(Fields f, Instant time) {
        AuditEvent.Builder b = AuditEvent.builder(MSGID, "checkpoint", true).time(time)
                .sd(SD, "node", f.node()).sd(SD, "reason", f.reason()).sd(SD, "seq", Long.toString(f.seq()))
                .sd(SD, "mac", f.mac()).sd(SD, "previous", f.previous()).sd(SD, "key", f.key()).sd(SD, "sig", f.sig());
        return b.message(f.node() + " audit chain checkpoint (" + f.reason() + ") at seq " + f.seq()).build();
    }

    /** @return the checkpoint in a parsed JSON line, or {@code null} when the line is another event */
    @SuppressWarnings("unchecked")
    static Fields from(Map<String, Object> line) {
        if (!MSGID.equals(line.get("msgid")) || !(line.get("sd") instanceof Map)) {
            return null;
        }
        Object el = ((Map<String, Object>) line.get("sd")).get(SD);
        if (!(el instanceof Map)) {
            return null;
        }
        Map<String, Object> p = (Map<String, Object>) el;
        long seq;
        try {
            seq = Long.parseLong(String.valueOf(p.get("seq")));
        } catch (NumberFormatException e) {
            seq = -1;
        }
        return new Fields(str(p.get("node")), str(p.get("reason")), seq, str(p.get("mac")), str(p.get("previous")),
                str(line.get("time")), str(p.get("key")), str(p.get("sig")));
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    /** @return whether {@code f.sig} is a valid signature of {@code f} by the raw Ed25519 public key */
    static boolean verify(byte[] publicKey, Fields f) {
        if (f.sig() == null) {
            return false;
        }
        try {
            byte[] der = new byte[SPKI_PREFIX.length + publicKey.length];
            System.arraycopy(SPKI_PREFIX, 0, der, 0, SPKI_PREFIX.length);
            System.arraycopy(publicKey, 0, der, SPKI_PREFIX.length, publicKey.length);
            PublicKey k = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(k);
            s.update(f.signedBytes());
            return s.verify(Base64.getDecoder().decode(f.sig()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** @return the id of a public key as checkpoints name it: the first 16 hex digits of its SHA-256 */
    static String keyId(byte[] publicKey) {
        try {
            return Chain.HEX.formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(publicKey), 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
