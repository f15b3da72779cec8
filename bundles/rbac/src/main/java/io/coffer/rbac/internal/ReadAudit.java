package io.coffer.rbac.internal;

import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.core.Response;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.Identity;
import io.coffer.api.rest.ApiError;
import io.coffer.api.rest.ClientIp;

/**
 * The audit events of the RBAC read routes (conjur-api §6): {@code list} for a resource list, {@code resource} for a
 * resource's details, {@code members} and {@code membership} for a role's members and memberships. The outcome is
 * read off the response the route built, so every path through the route is audited the same way.
 */
final class ReadAudit {
    private ReadAudit() {
    }

    /**
     * A list event ({@code list}, {@code members}, {@code membership}): the parameters as subject and, in the
     * message, in Ruby's {@code Hash#inspect} form, as Conjur writes them.
     *
     * @param what {@code resources}, {@code members} or {@code memberships}
     * @param params the request's parameters in Conjur's order (absent ones left out)
     */
    static void list(Audit a, HttpServletRequest request, Identity who, String msgid, String what,
            Map<String, String> params, Response r) {
        list(a, request, who, msgid, what, params, r.getStatus(), r.getEntity());
    }

    /** As above, from the answer's status and entity. */
    static void list(Audit a, HttpServletRequest request, Identity who, String msgid, String what,
            Map<String, String> params, int status, Object entity) {
        if (a == null) {
            return;
        }
        boolean ok = status < 300;
        String user = who.roleId();
        AuditEvent.Builder b = AuditEvent.builder(msgid, "list", ok).request(request.getAttribute(
                AuditEvent.REQUEST_ID), ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user);
        params.forEach(b::subject);
        String text = user + (ok ? " successfully listed " : " failed to list ") + what + " with parameters: "
                + inspect(params);
        a.record(b.message(ok ? text : text + ": " + error(status, entity)).build());
    }

    /** A {@code resource} event: a resource's details fetched, or not (404: not found or not visible). */
    static void show(Audit a, HttpServletRequest request, Identity who, String resourceId, Response r) {
        show(a, request, who, resourceId, r.getStatus(), r.getEntity());
    }

    /** As above, from the answer's status and entity. */
    static void show(Audit a, HttpServletRequest request, Identity who, String resourceId, int status,
            Object entity) {
        if (a == null) {
            return;
        }
        boolean ok = status < 300;
        String user = who.roleId();
        a.record(AuditEvent.builder("resource", "get", ok).request(request.getAttribute(AuditEvent.REQUEST_ID),
                ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user)
                .subject("resource", resourceId)
                .message(ok ? user + " successfully fetched resource details."
                        : user + " failed to fetch resource details: " + error(status, entity)).build());
    }

    /**
     * A {@code policy} event for a grant or revocation through the roles API ({@code add} or {@code remove}),
     * recorded before the change commits.
     */
    static void membership(Audit a, HttpServletRequest request, Identity who, String roleId, String memberId,
            boolean add) {
        if (a == null) {
            return;
        }
        String user = who.roleId();
        a.record(AuditEvent.builder("policy", add ? "add" : "remove", true)
                .request(request.getAttribute(AuditEvent.REQUEST_ID),
                        ClientIp.of(request::getAttribute, request.getRemoteAddr())).user(user)
                .subject("role", roleId).subject("member", memberId)
                .message(user + (add ? " added" : " removed") + " membership of " + memberId + " in " + roleId)
                .build());
    }

    /** The message of the route's JSON error, or Conjur's words for a bare 403/404. */
    static String error(int status, Object entity) {
        if (entity instanceof Map && ((Map<?, ?>) entity).get("error") instanceof Map) {
            Object m = ((Map<?, ?>) ((Map<?, ?>) entity).get("error")).get("message");
            if (m != null) {
                return m.toString();
            }
        }
        return status == 403 ? ApiError.FORBIDDEN : status == 404 ? "Not found" : "HTTP " + status;
    }

    /** {@code {:account=>"a", :kind=>"variable"}}: Ruby's {@code Hash#inspect}, the form Conjur's messages use. */
    static String inspect(Map<String, String> params) {
        StringBuilder s = new StringBuilder("{");
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (s.length() > 1) {
                s.append(", ");
            }
            s.append(':').append(e.getKey()).append("=>").append(quote(e.getValue()));
        }
        return s.append('}').toString();
    }

    /** Ruby's {@code Array#inspect} of strings: {@code ["a", "b"]}. */
    static String inspect(List<String> values) {
        StringBuilder s = new StringBuilder("[");
        for (String v : values) {
            if (s.length() > 1) {
                s.append(", ");
            }
            s.append(quote(v));
        }
        return s.append(']').toString();
    }

    private static String quote(String v) {
        return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
