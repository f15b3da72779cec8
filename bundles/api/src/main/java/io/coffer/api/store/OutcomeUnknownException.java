package io.coffer.api.store;

import java.sql.SQLException;
import java.util.UUID;

/**
 * A write's commit did not return within the node's bound (architecture §5): it committed on the Leader but the
 * synchronous Standby has not confirmed it. It may yet complete (the Standby returns) or be lost (the Leader fails
 * first), so the client is told neither success nor failure, only the write id to ask about later
 * ({@code GET /writes/{id}}). The commit keeps waiting in the background; it is never cancelled, since a cancelled
 * synchronous wait would leave the write committed locally but unreplicated.
 */
public class OutcomeUnknownException extends SQLException {
    private static final long serialVersionUID = 1L;
    private final transient UUID writeId;

    /**
     * @param writeId the change-log id of the write, or {@code null} when the transaction wrote none
     * @param waitedMs how long the commit was waited for
     */
    public OutcomeUnknownException(UUID writeId, long waitedMs) {
        super("the commit is not yet confirmed by the synchronous Standby after " + waitedMs + " ms", "57014");
        this.writeId = writeId;
    }

    /** @return the write id, or {@code null} */
    public UUID writeId() {
        return writeId;
    }

    /**
     * Finds the exception anywhere in a cause chain (writers wrap their SQL failures).
     *
     * @return it, or {@code null}
     */
    public static OutcomeUnknownException in(Throwable t) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof OutcomeUnknownException) {
                return (OutcomeUnknownException) t;
            }
        }
        return null;
    }
}
