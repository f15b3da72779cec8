package io.coffer.api.election;

/**
 * The API's side of a switchover (architecture 76), offered by the REST layer to election on the Leader handing over.
 * While it hands over, the Leader first holds new writes (they wait, they don't fail), then — once the new Leader
 * answers — sends every API request it still receives to the new Leader and relays the answer, so a client behind a
 * load balancer that still routes here sees no failed request.
 */
public interface WriteHandover {

    /**
     * Gets the relay ready (its TLS client started) ahead of the hold, so the pause doesn't pay for it.
     *
     * @param host the new Leader's address
     * @param port its PROXY-protocol listener
     * @throws IllegalStateException when the relay can't start (this node has no certificate from the cluster CA)
     */
    void prepare(String host, int port);

    /**
     * Holds every new write here (reads go on) and waits for the writes already admitted to finish.
     *
     * @param drainMillis how long to wait for them
     * @return true when none is in flight any more; false when some still are (the hold stays: call {@link #resume()}
     *         to give up)
     */
    boolean hold(long drainMillis);

    /**
     * Holds reads too (after {@link #hold}): the database is about to stop for the handover, and nothing may be
     * answered from it or from a cache meanwhile.
     */
    void holdAll();

    /**
     * From now on every API request (held writes first) goes to the new Leader's PROXY-protocol listener given to
     * {@link #prepare}, over TLS trusting only the cluster CA, with the client's address in a PROXY v2 header.
     */
    void forward();

    /** Back to serving here: the held writes proceed (and meet the leader gate). */
    void resume();

    /** @return nanoTime of the last request relayed, 0 when none was */
    long lastForwardNanos();

    /** @return requests being relayed now */
    int forwarding();
}
