package io.coffer.hostfactory.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rails-style request parameters from the query string and a form body: {@code cidr[]=a&cidr[]=b},
 * {@code annotations[k]=v}. Bounded, so a hostile body can't grow memory.
 */
final class Params {
    static final int MAX_BODY = 64 * 1024;

    private final Map<String, List<String>> values = new LinkedHashMap<>();

    private Params() {
    }

    /**
     * @param rawQuery the request's raw query string, or {@code null}
     * @param body the request body, read up to {@link #MAX_BODY}
     * @return the parameters
     * @throws IllegalArgumentException when a part is not valid percent-encoding
     * @throws IllegalStateException when the body is larger than {@link #MAX_BODY}
     */
    static Params parse(String rawQuery, InputStream body) throws IOException {
        Params p = new Params();
        p.add(rawQuery);
        if (body != null) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = body.read(buf)) > 0;) {
                if (out.size() + n > MAX_BODY) {
                    throw new IllegalStateException("request body too large");
                }
                out.write(buf, 0, n);
            }
            p.add(out.toString(StandardCharsets.UTF_8));
        }
        return p;
    }

    private void add(String encoded) {
        if (encoded == null || encoded.isEmpty()) {
            return;
        }
        for (String part : encoded.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            values.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
    }

    /** @return the first value of {@code key}, or {@code null} */
    String first(String key) {
        List<String> v = values.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** @return every value of {@code key[]} and {@code key} */
    List<String> list(String key) {
        List<String> out = new ArrayList<>(values.getOrDefault(key + "[]", List.of()));
        out.addAll(values.getOrDefault(key, List.of()));
        return out;
    }

    /** @return {@code prefix[name]=value} pairs, in request order */
    Map<String, String> hash(String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix + "[") && k.endsWith("]") && k.length() > prefix.length() + 2 && !v.isEmpty()) {
                out.put(k.substring(prefix.length() + 1, k.length() - 1), v.get(v.size() - 1));
            }
        });
        return out;
    }
}
