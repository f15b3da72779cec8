package io.coffer.crypto.command;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Arrays;

import io.coffer.crypto.internal.FileKeyProvider;

/** Reads a {@code file}-provider master key from standard input (never from an argument) and supplies it. */
final class MasterKeyInput {
    private MasterKeyInput() {
    }

    /** @return the supplied key's id */
    static String supply(FileKeyProvider provider) throws java.io.IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        InputStream in = System.in;
        byte[] chunk = new byte[1024];
        try {
            for (int n; (n = in.read(chunk)) > 0;) {
                if (buf.size() + n > 8192) {
                    throw new IllegalArgumentException("the master key on standard input is larger than 8 KiB");
                }
                buf.write(chunk, 0, n);
            }
            byte[] key = buf.toByteArray();
            try {
                return provider.supply(key);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        } finally {
            Arrays.fill(chunk, (byte) 0);
        }
    }
}
