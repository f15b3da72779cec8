package io.coffer.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.util.Arrays;
import java.util.HexFormat;

import javax.crypto.spec.SecretKeySpec;

import org.junit.Test;

public class HkdfTest {
    private static final HexFormat HEX = HexFormat.of();

    /** RFC 5869, test case 1. */
    @Test
    public void matchesTheRfcVector() {
        byte[] okm = Hkdf.derive(HEX.parseHex("000102030405060708090a0b0c"),
                HEX.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), HEX.parseHex("f0f1f2f3f4f5f6f7f8f9"), 42);
        assertEquals("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", HEX.formatHex(okm));
    }

    @Test
    public void purposesGiveIndependentStableKeys() {
        SecretKeySpec root = new SecretKeySpec(new byte[32], "AES");
        byte[] a = Hkdf.derive(root, "coffer:audit:mac:v1:n1");
        assertEquals(32, a.length);
        assertArrayEquals(a, Hkdf.derive(root, "coffer:audit:mac:v1:n1"));
        assertFalse(Arrays.equals(a, Hkdf.derive(root, "coffer:audit:mac:v1:n2")));
    }
}
