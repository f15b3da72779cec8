package io.coffer.api.rest;

import java.util.function.Function;

/**
 * The client's address, decided once per request by the REST layer before anything else runs (the socket peer, or
 * what {@code X-Forwarded-For} says through configured trusted proxies) and left as the request attribute
 * {@link #ATTRIBUTE}. Audit events, {@code restricted_to}, host-factory token origins and {@code /whoami} all read
 * it here, so they never disagree about who the client is.
 */
public final class ClientIp {
    /** Request attribute holding the decided client address (a {@code String}). */
    public static final String ATTRIBUTE = "coffer.client-ip";
    /**
     * The id of the CXF interceptor that decides it: a bundle's interceptor that runs before JAX-RS and reads the
     * address must order itself after this one ({@code addAfter(ClientIp.DECIDER)}).
     */
    public static final String DECIDER = "io.coffer.rest.client-ip";

    private ClientIp() {
    }

    /**
     * @param attributes the request's attributes ({@code request::getAttribute})
     * @param socketAddress the socket peer's address ({@code request.getRemoteAddr()})
     * @return the decided address; the socket peer's when the request never passed the decision (the conservative
     *     answer: a header is never believed by default)
     */
    public static String of(Function<String, Object> attributes, String socketAddress) {
        Object decided = attributes.apply(ATTRIBUTE);
        return decided instanceof String ? (String) decided : socketAddress;
    }
}
