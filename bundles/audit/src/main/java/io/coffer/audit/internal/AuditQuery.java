package io.coffer.audit.internal;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditSearch;

/**
 * The filters of an audit search, checked and turned into SQL over {@code audit_events}. Every parameter is known,
 * given once and well-formed, or the search is refused with a message naming it: a typo must not silently widen a
 * search into "everything".
 */
final class AuditQuery {
    private static final Pattern ACTION = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
    private static final Pattern PRINTABLE = Pattern.compile("[\\x21-\\x7e]+");
    private static final Pattern SD_FILTER = Pattern.compile("([A-Za-z0-9_.-]{1,32}@[0-9]{1,10})/([A-Za-z0-9_.-]{1,32})");
    private static final Pattern FULL_ID = Pattern.compile("[^:]+:[^:]+:.+");
    static final int MAX_OFFSET = 1_000_000;

    private final StringBuilder where = new StringBuilder("account = ?");
    private final List<Object> params = new ArrayList<>();
    int limit = AuditSearch.DEFAULT_LIMIT;
    int offset;

    private AuditQuery(String account) {
        params.add(account);
    }

    static AuditQuery parse(String account, Map<String, List<String>> filters) {
        AuditQuery q = new AuditQuery(account);
        for (Map.Entry<String, List<String>> f : filters.entrySet()) {
            String name = f.getKey();
            List<String> values = f.getValue();
            if (values == null || values.size() != 1) {
                throw new IllegalArgumentException("'" + name + "' must be given once");
            }
            q.add(name, values.get(0));
        }
        return q;
    }

    private void add(String name, String v) {
        switch (name) {
            case "since": and("at >= ?", instant(name, v)); break;
            case "until": and("at < ?", instant(name, v)); break;
            case "action": and("operation = ?", match(name, v, ACTION, "an operation such as fetch")); break;
            case "outcome":
                if (!v.equals("success") && !v.equals("failure")) {
                    throw new IllegalArgumentException("'outcome' must be success or failure");
                }
                and("success = ?", v.equals("success"));
                break;
            case "msgid": and("msgid = ?", printable(name, v, 32)); break;
            case "procid": and("request_id = ?", printable(name, v, 128)); break;
            case "facility": and("priority / 8 = ?", (short) number(name, v, 0, 23)); break;
            case "severity": and("priority % 8 = ?", (short) number(name, v, 0, 7)); break;
            case "limit": limit = number(name, v, 1, AuditSearch.MAX_LIMIT); break;
            case "offset": offset = number(name, v, 0, MAX_OFFSET); break;
            case "resource":
                where.append(" AND ");
                anyOf("resource_id", fullId(name, v), RESOURCE_PLACES);
                break;
            case "role":
                where.append(" AND ");
                anyOf("role_id", fullId(name, v), ROLE_PLACES);
                break;
            case "entity":
                String id = fullId(name, v);
                where.append(" AND (");
                anyOf("resource_id", id, RESOURCE_PLACES);
                where.append(" OR ");
                anyOf("role_id", id, ROLE_PLACES);
                where.append(')');
                break;
            default:
                java.util.regex.Matcher m = SD_FILTER.matcher(name);
                if (!m.matches()) {
                    throw new IllegalArgumentException("unknown parameter '" + printableOr(name) + "'");
                }
                if (v.length() > 1024) {
                    throw new IllegalArgumentException("'" + name + "' is longer than 1024 characters");
                }
                and("structured_data @> ?::jsonb", contains(m.group(1), m.group(2), v));
        }
    }

    /** Where a resource id shows (Conjur's audit engine): the subject's resource, the policy, the authenticator. */
    private static final String[][] RESOURCE_PLACES = {{AuditEvent.POLICY, "id"}, {AuditEvent.AUTH, "service"}};
    /** Where a role id shows: the acting role, the subject's role, member or owner, the policy. */
    private static final String[][] ROLE_PLACES = {{AuditEvent.SUBJECT, "role"}, {AuditEvent.SUBJECT, "member"},
        {AuditEvent.SUBJECT, "owner"}, {AuditEvent.POLICY, "id"}};

    /** {@code (column = id OR structured_data @> {place: id} ...)}: the id in its column or any of its places. */
    private void anyOf(String column, String id, String[][] places) {
        where.append('(').append(column).append(" = ?");
        params.add(id);
        for (String[] p : places) {
            where.append(" OR structured_data @> ?::jsonb");
            params.add(contains(p[0], p[1], id));
        }
        where.append(')');
    }

    private static String contains(String sdId, String param, String value) {
        StringBuilder b = new StringBuilder("{");
        JsonLine.string(b, sdId).append(":{");
        JsonLine.string(b, param).append(':');
        JsonLine.string(b, value);
        return b.append("}}").toString();
    }

    private void and(String clause, Object param) {
        where.append(" AND ").append(clause);
        params.add(param);
    }

    String where() {
        return where.toString();
    }

    List<Object> params() {
        return params;
    }

    private static OffsetDateTime instant(String name, String v) {
        try {
            if (v.matches("[0-9]{4}-[0-9]{2}-[0-9]{2}")) {
                return LocalDate.parse(v).atStartOfDay().atOffset(ZoneOffset.UTC);
            }
            return v.endsWith("Z") ? Instant.parse(v).atOffset(ZoneOffset.UTC) : OffsetDateTime.parse(v);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + name + "' must be an ISO-8601 time such as 2026-01-02T03:04:05Z "
                    + "or a date such as 2026-01-02");
        }
    }

    private static String fullId(String name, String v) {
        if (!FULL_ID.matcher(v).matches() || v.length() > 1024) {
            throw new IllegalArgumentException("'" + name + "' must be a full id such as myorg:variable:db/password");
        }
        return v;
    }

    private static int number(String name, String v, int min, int max) {
        if (v.matches("[0-9]{1,9}")) {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        }
        throw new IllegalArgumentException("'" + name + "' must be a whole number from " + min + " to " + max);
    }

    private static String match(String name, String v, Pattern p, String what) {
        if (!p.matcher(v).matches()) {
            throw new IllegalArgumentException("'" + name + "' must be " + what);
        }
        return v;
    }

    private static String printable(String name, String v, int max) {
        if (v.length() > max || !PRINTABLE.matcher(v).matches()) {
            throw new IllegalArgumentException("'" + name + "' must be at most " + max + " printable characters");
        }
        return v;
    }

    /** A parameter name echoed in an error: printable and short, so the message can't carry anything else. */
    private static String printableOr(String name) {
        String s = name.length() > 64 ? name.substring(0, 64) : name;
        return PRINTABLE.matcher(s).matches() ? s : "?";
    }
}
