package io.coffer.audit.internal;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.UUID;

import io.coffer.api.audit.AuditEvent;

/**
 * A line of a node's JSON audit file read back as the event it records, for the table: the event is rebuilt through
 * {@link AuditEvent.Builder} (which refuses secret-named parameters) and rendered again, and the rendering must be the
 * line itself, byte for byte — so what is stored, text line included, is exactly what the node's chain covers, and
 * a line forwarded by a peer can't smuggle anything the writer would not have written.
 */
final class ChainedLine {
    private ChainedLine() {
    }

    /**
     * @param line one chained line of an audit JSON file, without its newline
     * @return the event at its place in the chain
     * @throws IllegalArgumentException when the line is not one the writer makes
     */
    static Formatted parse(String line) {
        Chain.Link link = Chain.parse(line);
        if (link == null) {
            throw new IllegalArgumentException("not a chained audit line");
        }
        Map<String, Object> o = Json.object(link.canonical());
        AuditEvent.Builder b = AuditEvent.builder(text(o, "msgid"), text(o, "operation"),
                "success".equals(text(o, "result")));
        try {
            b.id(UUID.fromString(text(o, "id"))).time(Instant.parse(text(o, "time")));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("bad time", e);
        }
        b.requestId(optional(o, "request_id")).clientIp(optional(o, "client_ip")).message(optional(o, "message"));
        if (!(o.get("sd") instanceof Map<?, ?> sd)) {
            throw new IllegalArgumentException("no structured data");
        }
        for (Map.Entry<?, ?> el : sd.entrySet()) {
            String id = (String) el.getKey();
            if (!(el.getValue() instanceof Map<?, ?> params)) {
                throw new IllegalArgumentException("bad structured data element " + id);
            }
            if (AuditEvent.CLIENT.equals(id) || AuditEvent.ACTION.equals(id)) {
                continue; // the builder makes these from the client IP, operation and result
            }
            if (AuditEvent.POLICY.equals(id)) {
                b.policy(param(params, "id"), param(params, "version"));
                continue;
            }
            if (params.isEmpty()) {
                b.sd(id, "-", null);
            }
            for (Map.Entry<?, ?> p : params.entrySet()) {
                String name = (String) p.getKey();
                if (AuditEvent.AUTH.equals(id) && "user".equals(name)) {
                    b.user(param(params, name));
                } else {
                    b.sd(id, name, param(params, name));
                }
            }
        }
        Formatted f = Formatted.of(b.build());
        String json = f.json();
        if (!link.canonical().equals(json.substring(0, json.length() - 1) + ",\"seq\":" + link.seq() + "}")) {
            throw new IllegalArgumentException("the line is not in the writer's form");
        }
        return f.at(link.seq());
    }

    private static String text(Map<String, Object> o, String field) {
        if (!(o.get(field) instanceof String s)) {
            throw new IllegalArgumentException("no " + field);
        }
        return s;
    }

    private static String optional(Map<String, Object> o, String field) {
        Object v = o.get(field);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException("bad " + field);
        }
        return (String) v;
    }

    private static String param(Map<?, ?> params, String name) {
        Object v = params.get(name);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException("bad parameter " + name);
        }
        return (String) v;
    }
}
