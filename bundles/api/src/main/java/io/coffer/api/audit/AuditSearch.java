package io.coffer.api.audit;

import java.util.List;
import java.util.Map;

/**
 * Reads the stored audit trail ({@code audit_events}: the Leader's, replicated to every node). Registered where the
 * node's database is available; used by the {@code /audit} routes and {@code coffer:audit-search}. Authorization is
 * the caller's job. Thread-safe.
 */
public interface AuditSearch {
    /** Events per answer when {@code limit} is not given. */
    int DEFAULT_LIMIT = 100;
    /** The most events one answer holds. */
    int MAX_LIMIT = 1000;

    /**
     * @param account the account whose events are searched (events name it in their role, resource or policy ids)
     * @param filters name → values, as the {@code /audit} routes take them from the query string: {@code since},
     *     {@code until} (ISO-8601 instants; since inclusive, until exclusive), {@code action} (the operation),
     *     {@code outcome} ({@code success}|{@code failure}), {@code msgid}, {@code procid} (the request id),
     *     {@code facility}, {@code severity}, {@code limit}, {@code offset}, {@code resource}, {@code role},
     *     {@code entity} (full ids) and structured-data filters {@code <sd-id>/<param>} (e.g.
     *     {@code subject@43868/role}); each at most once
     * @return the events, newest first, in Conjur's audit API shape ({@code facility}, {@code severity},
     *     {@code timestamp}, {@code hostname}, {@code appname}, {@code procid}, {@code msgid}, {@code sdata},
     *     {@code message}) plus {@code id}, {@code node} and {@code seq}
     * @throws IllegalArgumentException when a filter is unknown, repeated or malformed; the message says which
     */
    List<Map<String, Object>> search(String account, Map<String, List<String>> filters);
}
