package io.coffer.policy.internal;

/** A policy that can't be loaded: 422 {@code policy_invalid}, with the position in the YAML when known. */
public class PolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int line;
    private final int column;

    /**
     * @param message what is wrong, naming the record or field (never a secret: policies hold none)
     * @param line 1-based line, or 0 when unknown
     * @param column 1-based column, or 0 when unknown
     */
    public PolicyException(String message, int line, int column) {
        super(message);
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
