package io.coffer.api.audit;

import java.util.List;

/**
 * The Leader's audit database as a destination for chained lines: a node's own events and those other nodes forward.
 * Each node's chain is stored in order, so the highest seq stored for a node says where its sender goes on (after a
 * failover too: the table is replicated synchronously). Registered by the audit bundle; thread-safe.
 */
public interface AuditStore {
    /**
     * @param node a node name
     * @return the highest seq of that node's chain stored, 0 when none
     * @throws AuditStoreException when the database can't answer or isn't writable (not the Leader)
     */
    long storedSeq(String node) throws AuditStoreException;

    /**
     * Stores lines of one node's audit file, exactly as its chain wrote them, in one transaction; an event already
     * stored (same id) is left as it is, so a batch sent twice is stored once.
     *
     * @param node the node whose chain the lines belong to (the sender's authenticated name, never the lines' say)
     * @param lines consecutive chained JSON lines, oldest first
     * @return the highest seq stored for the node once the transaction committed
     * @throws AuditStoreException when a line is malformed or out of order (nothing stored), or the database failed
     */
    long store(String node, List<String> lines) throws AuditStoreException;

    /** Why lines were not stored; {@link #code()} is a short token a peer can act on. */
    final class AuditStoreException extends Exception {
        private static final long serialVersionUID = 1L;
        /** The database is a replica: the lines belong to the Leader. */
        public static final String NOT_LEADER = "not_leader";
        /** A line is not a chained audit line, or the lines are not consecutive. */
        public static final String BAD_LINES = "bad_lines";
        /** The database failed; the sender retries. */
        public static final String UNAVAILABLE = "unavailable";

        private final String code;

        public AuditStoreException(String code, String message, Throwable cause) {
            super(message, cause);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}
