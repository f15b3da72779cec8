package io.coffer.audit.internal;

import java.util.Map;

import io.coffer.api.audit.AuditEvent;

/** One event as one line of JSON: the durable local record, and the shape stored in {@code structured_data}. */
final class JsonLine {
    private JsonLine() {
    }

    static String of(AuditEvent e) {
        return of(e, structuredData(new StringBuilder(128), e.structuredData()).toString());
    }

    /** @param structuredData the event's structured data, already rendered by {@link #structuredData} */
    static String of(AuditEvent e, String structuredData) {
        StringBuilder b = new StringBuilder(384).append('{');
        field(b, "id", e.id().toString()).append(',');
        field(b, "time", Rfc5424.TIMESTAMP.format(e.time())).append(',');
        field(b, "msgid", e.msgid()).append(",\"priority\":").append(e.priority()).append(',');
        field(b, "request_id", e.requestId()).append(',');
        field(b, "client_ip", e.clientIp()).append(',');
        field(b, "user", e.user()).append(',');
        field(b, "operation", e.operation()).append(',');
        field(b, "result", e.success() ? "success" : "failure").append(",\"sd\":");
        b.append(structuredData).append(',');
        return field(b, "message", e.message()).append('}').toString();
    }

    static StringBuilder structuredData(StringBuilder b, Map<String, Map<String, String>> sd) {
        b.append('{');
        boolean first = true;
        for (Map.Entry<String, Map<String, String>> el : sd.entrySet()) {
            b.append(first ? "" : ",");
            first = false;
            string(b, el.getKey()).append(":{");
            boolean firstParam = true;
            for (Map.Entry<String, String> p : el.getValue().entrySet()) {
                b.append(firstParam ? "" : ",");
                firstParam = false;
                field(b, p.getKey(), p.getValue());
            }
            b.append('}');
        }
        return b.append('}');
    }

    private static StringBuilder field(StringBuilder b, String name, String value) {
        string(b, name).append(':');
        return value == null ? b.append("null") : string(b, value);
    }

    static StringBuilder string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"');
    }
}
