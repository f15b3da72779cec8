package io.coffer.api.rest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Conjur's error bodies (conjur-api §0), as JSON-ready maps: {@code {"error":{"code":..,"message":..}}}. */
public final class ApiError {
    /** Request attribute under which the token middleware leaves the verified identity. */
    public static final String IDENTITY = "coffer.identity";
    /** Conjur's words for a 403 (the body is empty; audit events and logs say this). */
    public static final String FORBIDDEN = "The authenticated user lacks the necessary privilege";

    private ApiError() {
    }

    /**
     * @param code e.g. {@code argument_error}
     * @param message client-safe text
     * @return the body
     */
    /** @return {@code "Variable 'x' not found in account 'a'"}, Conjur's record-not-found message */
    public static String notFoundMessage(String account, String kind, String id) {
        return Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + " '" + id + "' not found in account '"
                + account + "'";
    }

    public static Map<String, Object> of(String code, String message) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", code);
        inner.put("message", message);
        return Map.of("error", inner);
    }

    /**
     * The record-not-found body: {@code "Variable 'x' not found in account 'a'"} with target and details.
     *
     * @return the body
     */
    public static Map<String, Object> notFound(String account, String kind, String id) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("code", "not_found");
        details.put("target", "id");
        details.put("message", account + ":" + kind + ":" + id);
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", "not_found");
        inner.put("message", notFoundMessage(account, kind, id));
        inner.put("target", kind);
        inner.put("details", details);
        return Map.of("error", inner);
    }

    /**
     * A model validation failure: 422 {@code validation_failed} with one detail.
     *
     * @return the body
     */
    public static Map<String, Object> validation(String target, String message) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("code", "validation_failed");
        detail.put("target", target);
        detail.put("message", message);
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", "validation_failed");
        inner.put("message", target + " " + message);
        inner.put("details", List.of(detail));
        return Map.of("error", inner);
    }
}
