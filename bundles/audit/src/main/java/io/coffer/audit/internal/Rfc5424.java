package io.coffer.audit.internal;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

import io.coffer.api.audit.AuditEvent;

/** Conjur's audit line (conjur-api §6): {@code <PRI>1 TIMESTAMP - conjur PROCID MSGID [SD]... MSG}. */
final class Rfc5424 {
    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private Rfc5424() {
    }

    static String line(AuditEvent e) {
        StringBuilder b = new StringBuilder(256);
        b.append('<').append(e.priority()).append(">1 ").append(TIMESTAMP.format(e.time())).append(" - conjur ")
                .append(token(e.requestId(), 128)).append(' ').append(token(e.msgid(), 32)).append(' ');
        for (Map.Entry<String, Map<String, String>> sd : e.structuredData().entrySet()) {
            b.append('[').append(sd.getKey());
            sd.getValue().forEach((k, v) -> b.append(' ').append(k).append("=\"").append(escape(v)).append('"'));
            b.append(']');
        }
        return b.append(' ').append(stripControls(e.message())).toString();
    }

    /** An SD parameter value: {@code "}, {@code \} and {@code ]} escaped (RFC 5424 §6.3.3), controls removed. */
    static String escape(String value) {
        StringBuilder b = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\' || c == ']') {
                b.append('\\').append(c);
            } else if (!Character.isISOControl(c)) {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Control characters (CR/LF included) would split or forge a line: they are removed. */
    static String stripControls(String s) {
        int i = 0;
        while (i < s.length() && !Character.isISOControl(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s; // the common case: nothing to remove, no copy
        }
        StringBuilder b = new StringBuilder(s.length()).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isISOControl(c)) {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A header field: printable US-ASCII only, at most {@code max} characters, {@code -} when empty. */
    static String token(String s, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; s != null && i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c > 0x20 && c < 0x7f) {
                b.append(c);
            }
        }
        return b.length() == 0 ? "-" : b.toString();
    }
}
