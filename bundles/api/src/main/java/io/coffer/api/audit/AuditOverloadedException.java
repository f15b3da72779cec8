package io.coffer.api.audit;

/**
 * The audit queue stayed full past its hard bound: the event was not recorded, so the action must not be served.
 * The REST layer answers it with 503.
 */
public class AuditOverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what was full and for how long; names no event content */
    public AuditOverloadedException(String message) {
        super(message);
    }
}
