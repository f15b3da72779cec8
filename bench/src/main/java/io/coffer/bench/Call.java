package io.coffer.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One request, repeated under load: the same for wrk and for the fixed-rate generator. A varying call ({@code vary >
 * 0}) spreads over {@code vary} paths ({@code {n}} in the path) and sends a body unique to each request: writes of
 * the same value to one variable would measure its row lock and Coffer's no-op for an unchanged value instead.
 */
record Call(String method, String path, Map<String, String> headers, byte[] body, int expect, int vary, String run) {
    Call(String method, String path, Map<String, String> headers, byte[] body, int expect) {
        this(method, path, headers, body, expect, 0, null);
    }

    Call varying(int paths) {
        return new Call(method, path, headers, body, expect, paths,
                Long.toHexString(System.nanoTime() & 0xfffff | 0x100000).substring(1));
    }

    /** The path of request number {@code i}. */
    String path(long i) {
        return vary > 0 ? path.replace("{n}", Long.toString(i % vary)) : path;
    }

    /** The body of request number {@code i}: 64 bytes, unique per run and request when varying. */
    byte[] body(long i) {
        if (vary <= 0 || body == null) {
            return body;
        }
        return String.format(java.util.Locale.ROOT, "%s-%058d", run, i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    static Call get(String path, String auth, int expect) {
        Map<String, String> h = new LinkedHashMap<>();
        if (auth != null) {
            h.put("Authorization", auth);
        }
        return new Call("GET", path, h, null, expect);
    }

    static Call post(String path, String auth, String contentType, byte[] body, int expect) {
        Map<String, String> h = new LinkedHashMap<>();
        if (auth != null) {
            h.put("Authorization", auth);
        }
        h.put("Content-Type", contentType);
        return new Call("POST", path, h, body, expect);
    }
}
