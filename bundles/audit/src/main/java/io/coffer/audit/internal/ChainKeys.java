package io.coffer.audit.internal;

import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Mac;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import io.coffer.api.crypto.KeyDerivation;

/**
 * The node's audit keys, derived from the root key (never stored, never configured): the chain's HMAC key and the
 * checkpoints' Ed25519 key pair, both per node ({@code coffer:audit:mac:v1:<node>}, {@code coffer:audit:sign:v1:<node>}).
 * Anyone holding the root key (every node of the cluster) can derive a node's keys to verify its files.
 */
final class ChainKeys {
    private final byte[] macKey;
    private final Ed25519PrivateKeyParameters signing;
    private final byte[] publicKey;
    private final String keyId;

    ChainKeys(byte[] macKey, byte[] signingSeed) {
        this.macKey = macKey.clone();
        this.signing = new Ed25519PrivateKeyParameters(signingSeed, 0);
        this.publicKey = signing.generatePublicKey().getEncoded();
        this.keyId = Checkpoint.keyId(publicKey);
    }

    static ChainKeys derive(KeyDerivation keys, String node) {
        byte[] mac = keys.derive("coffer:audit:mac:v1:" + node);
        byte[] seed = keys.derive("coffer:audit:sign:v1:" + node);
        try {
            return new ChainKeys(mac, seed);
        } finally {
            Arrays.fill(mac, (byte) 0);
            Arrays.fill(seed, (byte) 0);
        }
    }

    /** @return a fresh HMAC-SHA256 keyed with the chain key (a {@code Mac} is not thread-safe) */
    Mac mac() {
        return Chain.mac(macKey);
    }

    /** @return the base64 Ed25519 signature of the checkpoint's fields */
    String sign(Checkpoint.Fields f) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, signing);
        byte[] m = f.signedBytes();
        s.update(m, 0, m.length);
        return Base64.getEncoder().encodeToString(s.generateSignature());
    }

    byte[] publicKey() {
        return publicKey.clone();
    }

    String keyId() {
        return keyId;
    }

    /** For {@code coffer:audit-verify --export-keys} only: the operator's explicit, offline copy. */
    byte[] macKey() {
        return macKey.clone();
    }
}
