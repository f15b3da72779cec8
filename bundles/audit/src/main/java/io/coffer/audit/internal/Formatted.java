package io.coffer.audit.internal;

import io.coffer.api.audit.AuditEvent;

/**
 * An event with its lines rendered once, by the writer thread, for the files and then the table (each used to
 * render them again). {@code json} is the unchained line; {@code seq} its place in the chain once written (0 before).
 */
record Formatted(AuditEvent event, String structuredData, String json, String line, long seq) {
    static Formatted of(AuditEvent e) {
        String sd = JsonLine.structuredData(new StringBuilder(128), e.structuredData()).toString();
        return new Formatted(e, sd, JsonLine.of(e, sd), Rfc5424.line(e), 0);
    }

    Formatted at(long chainSeq) {
        return new Formatted(event, structuredData, json, line, chainSeq);
    }
}
