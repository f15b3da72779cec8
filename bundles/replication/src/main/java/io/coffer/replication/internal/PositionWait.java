package io.coffer.replication.internal;

import java.util.Map;

import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.PreMatching;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.ext.Provider;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.rest.ApiError;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Position;

/**
 * Read-your-writes across nodes (architecture §8): a request carrying a write's {@code X-Coffer-Position} is served
 * only once this node's read caches reflect that position — not merely once PostgreSQL replayed it — waiting a
 * bounded time, then 503 with {@code Retry-After}. Positions compare timeline-aware.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true", configurationPid = PositionWait.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = PositionWait.Config.class)
@Provider
@PreMatching
public class PositionWait implements ContainerRequestFilter {
    static final String PID = "io.coffer.replication.reads";
    static final String HEADER = "X-Coffer-Position";

    @ObjectClassDefinition(name = "Coffer read-your-writes", description = "How long a read waits for a position")
    public @interface Config {
        @AttributeDefinition(description = "Milliseconds a request with X-Coffer-Position waits for this node to "
                + "reach it before answering 503")
        int wait_ms() default 2000;
    }

    private final Changes changes;
    private volatile int waitMs;

    @Activate
    public PositionWait(@Reference Changes changes, Config config) {
        this.changes = changes;
        modified(config);
    }

    @Modified
    void modified(Config config) {
        this.waitMs = Math.max(0, config.wait_ms());
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String header = request.getHeaderString(HEADER);
        if (header == null || header.isBlank()) {
            return;
        }
        Position wanted;
        try {
            wanted = Position.parse(header);
        } catch (IllegalArgumentException e) {
            request.abortWith(error(422, "argument_error", HEADER + " must be timeline/XXX/YYY as write responses "
                    + "carry it"));
            return;
        }
        long deadline = System.nanoTime() + waitMs * 1_000_000L;
        while (!reached(wanted)) {
            if (System.nanoTime() >= deadline) {
                Position at = changes.applied();
                request.abortWith(Response.fromResponse(error(503, "position_not_reached", "this node has not yet "
                        + "applied " + wanted + (at != null ? " (it is at " + at + ")" : "") + "; retry, or read "
                        + "from the Leader")).header("Retry-After", "1").build());
                return;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private boolean reached(Position wanted) {
        Position at = changes.applied();
        return at != null && at.compareTo(wanted) >= 0;
    }

    private static Response error(int status, String code, String message) {
        Map<String, Object> body = ApiError.of(code, message);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }
}
