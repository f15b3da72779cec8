package io.coffer.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** One request, repeated under load: the same for wrk and for the fixed-rate generator. */
record Call(String method, String path, Map<String, String> headers, byte[] body, int expect) {
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
