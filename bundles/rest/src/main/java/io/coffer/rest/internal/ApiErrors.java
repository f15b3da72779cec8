package io.coffer.rest.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.WebApplicationException;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.ext.ExceptionMapper;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.audit.AuditOverloadedException;
import io.coffer.api.authn.Identity;
import io.coffer.api.crypto.KeysLockedException;
import io.coffer.api.crypto.SealException;
import io.coffer.api.rest.ApiError;
import io.coffer.api.rest.ClientIp;
import io.coffer.api.store.OutcomeUnknownException;

/**
 * Every error leaves as Conjur's JSON shape {@code {"error":{"code":..,"message":..}}}. Unexpected exceptions become
 * a 500 with a generic message: their text may carry internals (SQL, paths) and is logged, never returned.
 */
public class ApiErrors implements ExceptionMapper<Throwable> {
    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    private final Supplier<Audit> audit;

    @Context
    private HttpServletRequest servletRequest;

    ApiErrors(Supplier<Audit> audit) {
        this.audit = audit;
    }

    static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(ApiError.of(code, message)).build();
    }

    /**
     * Neither success nor failure (architecture §5): the commit is on the Leader but not yet confirmed by the
     * synchronous Standby. The write id lets the client ask {@code GET /writes/{id}} before retrying.
     */
    static Response outcomeUnknown(OutcomeUnknownException e) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("code", "outcome_unknown");
        inner.put("message", "the write was not confirmed by the synchronous Standby in time; it may still complete. "
                + "Ask GET /writes/{write_id} before retrying");
        if (e.writeId() != null) {
            inner.put("write_id", e.writeId().toString());
        }
        Response.ResponseBuilder b = Response.status(503).type(MediaType.APPLICATION_JSON)
                .entity(Map.of("error", inner)).header("Retry-After", "5");
        return e.writeId() == null ? b.build() : b.header("X-Coffer-Write-Id", e.writeId().toString()).build();
    }

    static String codeFor(int status) {
        switch (status) {
            case 400: return "bad_request";
            case 401: return "unauthorized";
            case 403: return "forbidden";
            case 404: return "not_found";
            case 405: return "method_not_allowed";
            case 406: return "not_acceptable";
            case 409: return "conflict";
            case 415: return "unsupported_media_type";
            case 422: return "unprocessable_entity";
            case 429: return "too_many_requests";
            case 503: return "service_unavailable";
            default: return status >= 500 ? "internal_error" : "error";
        }
    }

    @Override
    public Response toResponse(Throwable e) {
        if (e instanceof WebApplicationException) {
            Response r = ((WebApplicationException) e).getResponse();
            int status = r.getStatus();
            if (r.hasEntity()) {
                return r;
            }
            String message = status == 404 ? "no such route" : Response.Status.fromStatusCode(status) != null
                    ? Response.Status.fromStatusCode(status).getReasonPhrase() : "error";
            Response out = error(status, codeFor(status), message);
            if (status == 405 && r.getHeaderString("Allow") != null) {
                return Response.fromResponse(out).header("Allow", r.getHeaderString("Allow")).build();
            }
            return out;
        }
        OutcomeUnknownException unknown = OutcomeUnknownException.in(e);
        if (unknown != null) {
            return outcomeUnknown(unknown);
        }
        if (e instanceof AuditOverloadedException) {
            // The action was not recorded, so it was not served: the client may retry.
            return error(503, "audit_overloaded", "this node's audit trail is behind; retry shortly");
        }
        if (e instanceof KeysLockedException) {
            return error(503, "keys_locked", "this node's keys are locked; an operator must unlock them");
        }
        if (e instanceof SealException) {
            // The message names no plaintext or key material (SealException's contract).
            LOG.error("a stored value failed to open: {}", e.getMessage());
            recordTamper(e.getMessage());
            return error(500, "sealed_value_invalid", "a stored value failed its integrity check; see the node's log");
        }
        LOG.error("unexpected error serving a request", e);
        return error(500, "internal_error", "internal error; see the node's log");
    }

    /** A value that fails its integrity check is evidence of tampering: it goes to the audit trail too. */
    private void recordTamper(String what) {
        Audit a = audit.get();
        HttpServletRequest req = servletRequest;
        if (a == null || req == null) {
            return;
        }
        try {
            Identity who = (Identity) req.getAttribute(ApiError.IDENTITY);
            AuditEvent.Builder b = AuditEvent.builder("integrity", "open", false)
                    .request(req.getAttribute(AuditEvent.REQUEST_ID),
                            ClientIp.of(req::getAttribute, req.getRemoteAddr()))
                    .message("a stored value failed its integrity check: " + what);
            if (who != null) {
                b.user(who.roleId());
            }
            a.record(b.build());
        } catch (RuntimeException auditFailure) {
            LOG.error("the integrity failure could not be audited: {}", auditFailure.getMessage());
        }
    }
}
