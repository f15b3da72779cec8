package io.coffer.authn.internal;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * The signing-key contract shared with the accounts bundle: the private key is its raw 32 bytes (stored sealed with
 * context {@code authn:<account>}), the public key its DER SubjectPublicKeyInfo, the {@code kid} the lowercase hex
 * SHA-256 of that DER, as Conjur computes it.
 */
final class Ed25519Keys {
    private Ed25519Keys() {
    }

    static String kid(byte[] publicDer) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(publicDer));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] publicDer(Ed25519PublicKeyParameters pub) {
        try {
            return SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pub).getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SPKI DER of an Ed25519 key is a fixed 12-byte prefix and the 32 key bytes. */
    static Ed25519PublicKeyParameters fromDer(byte[] der) {
        if (der.length != 44) {
            throw new IllegalArgumentException("not an Ed25519 public key");
        }
        return new Ed25519PublicKeyParameters(der, 12);
    }

    static byte[] sign(Ed25519PrivateKeyParameters key, byte[] input) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, key);
        s.update(input, 0, input.length);
        return s.generateSignature();
    }

    static boolean verify(Ed25519PublicKeyParameters key, byte[] input, byte[] signature) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, key);
        s.update(input, 0, input.length);
        return s.verifySignature(signature);
    }
}
