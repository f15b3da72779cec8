package io.coffer.api.audit;

/**
 * The node's audit trail, registered by the audit bundle on every node. Callers take it as an optional, dynamic
 * reference, so a node without the audit bundle still serves requests.
 *
 * <p>Thread-safe. {@link #record} only enqueues: it never waits on a file, the database or the network, so the read
 * path pays a queue insert. Durability is the writer's job (the local file first, then the other destinations).
 */
public interface Audit {

    /**
     * Enqueues one event. When the queue is full the call waits a short, bounded time for room; past that bound it
     * throws rather than drop the event, and the caller answers 503 without serving the action.
     *
     * @param event the event; must carry no secret value, API key, password or token
     * @throws AuditOverloadedException when the queue stayed full past its hard bound; the event was not recorded
     */
    void record(AuditEvent event);
}
