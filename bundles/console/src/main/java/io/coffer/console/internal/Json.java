package io.coffer.console.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/** JSON in and out of the console's backend. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the object, or {@code null} when the text is not a JSON object */
    static Map<String, Object> readObject(byte[] text) {
        try {
            return MAPPER.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (IOException e) {
            return null;
        }
    }

    /** Conjur's error shape, {@code {"error":{"code":..,"message":..}}}. */
    static byte[] error(String code, String message) {
        return write(io.coffer.api.rest.ApiError.of(code, message));
    }
}
