package io.coffer.api.audit;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * One audited action in Conjur's shape (conjur-api §6): msgid, priority, request id, client IP, the acting role, the
 * action's operation and result, structured data keyed by SD-ID ({@code auth@43868}, {@code subject@43868},
 * {@code client@43868}, {@code action@43868}, {@code policy@43868}) and the message text. Immutable.
 *
 * <p>An event never carries a secret value, API key, password or token: the builder refuses parameters with such
 * names, and callers put only ids in the message.
 */
public final class AuditEvent {
    /** Request attribute (and JAX-RS request property) holding the request id the REST layer accepted or made. */
    public static final String REQUEST_ID = "coffer.request-id";
    /** Conjur's private enterprise number, the suffix of every SD-ID. */
    public static final String PEN = "@43868";
    public static final String AUTH = "auth" + PEN;
    public static final String SUBJECT = "subject" + PEN;
    public static final String CLIENT = "client" + PEN;
    public static final String ACTION = "action" + PEN;
    public static final String POLICY = "policy" + PEN;
    private static final Set<String> FORBIDDEN = Set.of("value", "password", "api_key", "apikey", "token",
            "credential", "secret");

    private final UUID id;
    private final Instant time;
    private final String msgid;
    private final int priority;
    private final String requestId;
    private final String clientIp;
    private final String user;
    private final String operation;
    private final boolean success;
    private final Map<String, Map<String, String>> structuredData;
    private final String message;

    private AuditEvent(Builder b) {
        this.id = b.id != null ? b.id : io.coffer.api.RandomIds.uuid();
        this.time = b.time != null ? b.time : Instant.now();
        this.msgid = b.msgid;
        int facility = "identity-check".equals(b.msgid) ? 4 : 10;
        int severity = "policy".equals(b.msgid) ? 5 : b.success ? 6 : 4;
        this.priority = facility * 8 + severity;
        this.requestId = b.requestId != null && !b.requestId.isEmpty() ? b.requestId : this.id.toString();
        this.clientIp = b.clientIp;
        this.user = b.user;
        this.operation = b.operation;
        this.success = b.success;
        Map<String, Map<String, String>> sd = new LinkedHashMap<>();
        b.sd.forEach((k, v) -> sd.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
        sd.put(CLIENT, Map.of("ip", clientIp != null ? clientIp : "-"));
        Map<String, String> action = new LinkedHashMap<>();
        action.put("result", success ? "success" : "failure");
        action.put("operation", operation);
        sd.put(ACTION, Collections.unmodifiableMap(action));
        if (b.policy != null) {
            sd.put(POLICY, Collections.unmodifiableMap(b.policy));
        }
        this.structuredData = Collections.unmodifiableMap(sd);
        this.message = b.message != null ? b.message : "";
    }

    /**
     * @param msgid e.g. {@code authn}, {@code fetch}, {@code update}, {@code policy}, {@code check},
     *     {@code identity-check}
     * @param operation e.g. {@code authenticate}, {@code fetch}, {@code check}
     * @param success whether the action succeeded
     * @return a builder; {@code client@43868} and {@code action@43868} are added by {@link Builder#build()} after
     *     the SD elements the caller adds, then {@code policy@43868} when set
     */
    public static Builder builder(String msgid, String operation, boolean success) {
        return new Builder(msgid, operation, success);
    }

    /** @return the event's unique id; a destination seeing it twice keeps one */
    public UUID id() {
        return id;
    }

    /** @return when the action happened */
    public Instant time() {
        return time;
    }

    /** @return the RFC 5424 MSGID */
    public String msgid() {
        return msgid;
    }

    /** @return the RFC 5424 PRI: facility × 8 + severity, e.g. 86, 84, 85 or 38 */
    public int priority() {
        return priority;
    }

    /** @return the request id (RFC 5424 PROCID); the event id when the request had none */
    public String requestId() {
        return requestId;
    }

    /** @return the client's IP address, or {@code null} for an action not made over the network */
    public String clientIp() {
        return clientIp;
    }

    /** @return the authenticated role id acting, or {@code null} when there was none */
    public String user() {
        return user;
    }

    /** @return the action's operation, e.g. {@code fetch} */
    public String operation() {
        return operation;
    }

    /** @return whether the action succeeded */
    public boolean success() {
        return success;
    }

    /** @return SD-ID → (parameter name → value), unmodifiable, in line order */
    public Map<String, Map<String, String>> structuredData() {
        return structuredData;
    }

    /** @return the human-readable message (failures end with {@code : <error>}) */
    public String message() {
        return message;
    }

    /** Builds an {@link AuditEvent}; not thread-safe. */
    public static final class Builder {
        private final String msgid;
        private final String operation;
        private final boolean success;
        private final Map<String, Map<String, String>> sd = new LinkedHashMap<>();
        private Map<String, String> policy;
        private UUID id;
        private Instant time;
        private String requestId;
        private String clientIp;
        private String user;
        private String message;

        private Builder(String msgid, String operation, boolean success) {
            this.msgid = Objects.requireNonNull(msgid, "msgid");
            this.operation = Objects.requireNonNull(operation, "operation");
            this.success = success;
        }

        /** @param id the event id (default: a random UUID) @return this */
        public Builder id(UUID id) {
            this.id = id;
            return this;
        }

        /** @param time when it happened (default: now) @return this */
        public Builder time(Instant time) {
            this.time = time;
            return this;
        }

        /** @param requestId the request's {@code X-Request-Id} @return this */
        public Builder requestId(String requestId) {
            this.requestId = requestId;
            return this;
        }

        /** @param clientIp the client's address @return this */
        public Builder clientIp(String clientIp) {
            this.clientIp = clientIp;
            return this;
        }

        /**
         * Both request fields at once, as resources have them.
         *
         * @param requestIdAttribute the request's {@link AuditEvent#REQUEST_ID} attribute (a string, or {@code null})
         * @param clientIp the client's address
         * @return this
         */
        public Builder request(Object requestIdAttribute, String clientIp) {
            this.requestId = requestIdAttribute instanceof String ? (String) requestIdAttribute : null;
            this.clientIp = clientIp;
            return this;
        }

        /**
         * Sets the acting role and adds {@code auth@43868 user=} at this point of the SD order.
         *
         * @param roleId the authenticated role id, or {@code not-found}
         * @return this
         */
        public Builder user(String roleId) {
            this.user = roleId;
            return sd(AUTH, "user", roleId);
        }

        /**
         * Adds {@code subject@43868 name=value} (the element takes its place in the order at its first parameter).
         *
         * @return this
         */
        public Builder subject(String name, String value) {
            return sd(SUBJECT, name, value);
        }

        /** Adds an empty {@code [subject@43868]}, as a failed policy load shows. @return this */
        public Builder subject() {
            sd.computeIfAbsent(SUBJECT, k -> new LinkedHashMap<>());
            return this;
        }

        /**
         * Adds one parameter to an SD element; elements keep the order of their first parameter.
         *
         * @param sdId e.g. {@link #AUTH}
         * @param name the parameter name; never one that names a secret ({@code value}, {@code password}, ...)
         * @param value the value; {@code null} leaves the parameter out
         * @return this
         * @throws IllegalArgumentException when the name is one that would carry a secret
         */
        public Builder sd(String sdId, String name, String value) {
            if (FORBIDDEN.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("audit events never carry a parameter named " + name);
            }
            Map<String, String> params = sd.computeIfAbsent(sdId, k -> new LinkedHashMap<>());
            if (value != null) {
                params.put(name, value);
            }
            return this;
        }

        /**
         * Sets {@code policy@43868}, placed after {@code action@43868}.
         *
         * @param policyId the policy resource id
         * @param version the policy version, or {@code null}
         * @return this
         */
        public Builder policy(String policyId, String version) {
            policy = new LinkedHashMap<>();
            policy.put("id", policyId);
            if (version != null) {
                policy.put("version", version);
            }
            return this;
        }

        /** @param message the message text, ids only @return this */
        public Builder message(String message) {
            this.message = message;
            return this;
        }

        /** @return the event */
        public AuditEvent build() {
            return new AuditEvent(this);
        }
    }
}
