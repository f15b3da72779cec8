package io.coffer.rest.internal;

import java.util.function.Supplier;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;

import io.coffer.api.crypto.KeyState;

/**
 * While the node's keys are locked (or the key service is not running) every API route answers 503
 * {@code keys_locked}: nothing could be authenticated, opened or sealed anyway, and a clear code lets clients and
 * load balancers tell this from an outage. The health routes pass, so {@code /health} can say why.
 */
@PreMatching
public class KeysGate implements ContainerRequestFilter {
    private final Supplier<KeyState> keys;

    KeysGate(Supplier<KeyState> keys) {
        this.keys = keys;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String path = request.getUriInfo().getRequestUri().getRawPath();
        if (path.equals("/health") || path.startsWith("/health/")) {
            return;
        }
        KeyState k = keys.get();
        if (k == null || !k.unlocked()) {
            request.abortWith(ApiErrors.error(503, "keys_locked", "this node's keys are locked; an operator must "
                    + "unlock them (coffer:keys-status says why)"));
        }
    }
}
