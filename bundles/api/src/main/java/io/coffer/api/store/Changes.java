package io.coffer.api.store;

/**
 * A generation number that moves whenever the node's database may have changed (its WAL position moved, or this
 * node committed a write). Read caches keep what they computed under one generation and drop it when it moves, so
 * warm reads need no database round trip and still see every change within the watch interval — at once for writes
 * made through this node.
 */
public interface Changes {

    /** @return the current generation; compare before and after computing a cached value */
    long generation();

    /** Called after this node committed a write, so that its own next read sees it (read-your-writes). */
    void invalidate();

    /**
     * @return the position the node's read caches reflect: the WAL position (replay position on a replica) and
     *         timeline last observed, or {@code null} before the first observation. A read that carries a write's
     *         position may be served once this has reached it.
     */
    Position applied();
}
