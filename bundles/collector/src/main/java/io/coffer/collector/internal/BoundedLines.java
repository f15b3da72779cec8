package io.coffer.collector.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Lines from a peer, each at most {@code max} bytes and strict UTF-8: a peer that sends an endless line or bytes that
 * aren't text is cut off rather than buffered without bound.
 */
final class BoundedLines {
    private final InputStream in;
    private final int max;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);

    BoundedLines(InputStream in, int max) {
        this.in = in;
        this.max = max;
    }

    /** @return the next line without its {@code \n}, or {@code null} at the end of the stream */
    String next() throws IOException {
        line.reset();
        for (;;) {
            int b = in.read();
            if (b < 0) {
                if (line.size() > 0) {
                    throw new IOException("the stream ended inside a line");
                }
                return null;
            }
            if (b == '\n') {
                try {
                    return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(java.nio.ByteBuffer.wrap(line.toByteArray())).toString();
                } catch (CharacterCodingException e) {
                    throw new IOException("a line is not UTF-8", e);
                }
            }
            if (line.size() >= max) {
                throw new IOException("a line is longer than " + max + " bytes");
            }
            line.write(b);
        }
    }
}
