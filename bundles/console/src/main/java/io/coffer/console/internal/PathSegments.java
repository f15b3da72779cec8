package io.coffer.console.internal;

import java.nio.charset.StandardCharsets;

/** Percent-encoding of one path segment: everything but RFC 3986's unreserved characters (so {@code /} is %2F). */
final class PathSegments {
    private PathSegments() {
    }

    static String encode(String segment) {
        StringBuilder b = new StringBuilder();
        for (byte c : segment.getBytes(StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '.'
                    || u == '_' || u == '~') {
                b.append((char) u);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(u >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(u & 15, 16)));
            }
        }
        return b.toString();
    }
}
