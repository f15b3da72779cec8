package io.coffer.crypto.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

import io.coffer.api.crypto.SealException;

/**
 * AES-256-GCM with a fresh 96-bit nonce per seal. Blob: {@code 'C' | key version (4 bytes) | nonce (12) |
 * ciphertext+tag (16)}. The AAD is the caller's context, a NUL, and the key version, so a blob opens only for the
 * row it was made for and only under the key version it names.
 */
final class Aead {
    static final byte MAGIC = 'C';
    static final int NONCE = 12;
    static final int TAG_BITS = 128;
    static final int HEADER = 1 + 4 + NONCE;

    private static final SecureRandom RANDOM = new SecureRandom();
    // Cipher objects are not thread-safe and costly to look up; one per thread.
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM unavailable", e);
        }
    });

    private Aead() {
    }

    static byte[] seal(SecretKey key, int version, byte[] plaintext, String context) {
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad(context, version));
            byte[] out = new byte[HEADER + c.getOutputSize(plaintext.length)];
            out[0] = MAGIC;
            ByteBuffer.wrap(out, 1, 4).putInt(version);
            System.arraycopy(nonce, 0, out, 5, NONCE);
            c.doFinal(plaintext, 0, plaintext.length, out, HEADER);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    /** @return the key version a blob names; checks only the framing */
    static int version(byte[] blob) {
        if (blob == null || blob.length < HEADER + TAG_BITS / 8 || blob[0] != MAGIC) {
            throw new SealException("not a sealed value");
        }
        return ByteBuffer.wrap(blob, 1, 4).getInt();
    }

    static byte[] open(SecretKey key, byte[] blob, String context) {
        int version = version(blob);
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, blob, 5, NONCE));
            c.updateAAD(aad(context, version));
            return c.doFinal(blob, HEADER, blob.length - HEADER);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SealException("sealed value does not open: wrong context or data key, or tampered");
        } catch (GeneralSecurityException e) {
            throw new SealException("sealed value does not open: " + e.getClass().getSimpleName());
        }
    }

    private static byte[] aad(String context, int version) {
        byte[] ctx = context.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(ctx.length + 5).put(ctx).put((byte) 0).putInt(version).array();
    }
}
