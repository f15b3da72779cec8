package io.coffer.rbac.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;

import org.junit.Test;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.authn.Identity;
import io.coffer.api.rest.ApiError;

/** The RBAC read routes' audit events in Conjur's shape (conjur-api §6, as Conjur's own feature files show them). */
public class ReadAuditTest {
    private final List<AuditEvent> events = new ArrayList<>();
    private final Audit audit = events::add;
    private final Identity alice = new Identity("cucumber", "alice", Instant.EPOCH, Instant.EPOCH);

    private static HttpServletRequest request(String requestId, String ip) {
        return (HttpServletRequest) Proxy.newProxyInstance(ReadAuditTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, args) -> {
                    switch (m.getName()) {
                        case "getAttribute":
                            return AuditEvent.REQUEST_ID.equals(args[0]) ? requestId : null;
                        case "getRemoteAddr":
                            return ip;
                        default:
                            return null;
                    }
                });
    }

    @Test
    public void aResourceListIsOneListEventWithItsParametersAsConjurWritesThem() {
        Map<String, String> p = ResourcesResource.listParams("cucumber", "variable", null, null, "target", false,
                null, null);
        ReadAudit.list(audit, request("r-1", "10.0.0.7"), alice, "list", "resources", p, 200, null);
        AuditEvent e = events.get(0);
        assertEquals("list", e.msgid());
        assertEquals("list", e.operation());
        assertTrue(e.success());
        assertEquals(86, e.priority());
        assertEquals("r-1", e.requestId());
        assertEquals("10.0.0.7", e.clientIp());
        assertEquals("cucumber:user:alice successfully listed resources with parameters: {:account=>\"cucumber\", "
                + ":kind=>\"variable\", :search=>\"target\", :limit=>\"1000\"}", e.message());
        Map<String, String> subject = e.structuredData().get(AuditEvent.SUBJECT);
        assertEquals(List.of("account", "kind", "search", "limit"), new ArrayList<>(subject.keySet()));
        assertEquals("cucumber:user:alice", e.structuredData().get(AuditEvent.AUTH).get("user"));
    }

    @Test
    public void aPagedOrCountedListHasNoDefaultLimitAndActingAsComesLast() {
        assertEquals("{:account=>\"cucumber\", :limit=>\"1\", :offset=>\"1\"}", ReadAudit.inspect(
                ResourcesResource.listParams("cucumber", null, "1", "1", null, false, null, null)));
        assertEquals("{:account=>\"cucumber\", :count=>\"true\"}", ReadAudit.inspect(
                ResourcesResource.listParams("cucumber", null, null, null, null, true, null, null)));
        assertEquals("{:limit=>\"1000\", :acting_as=>\"user:alice\"}", ReadAudit.inspect(
                ResourcesResource.listParams(null, null, null, null, null, false, "user:alice", null)));
    }

    @Test
    public void aRefusedListIsAFailureNamingTheError() {
        Map<String, String> p = ResourcesResource.listParams(null, null, null, null, null, false, "user:bob", null);
        ReadAudit.list(audit, request("r-2", "10.0.0.7"), alice, "list", "resources", p,
                403, null);
        AuditEvent e = events.get(0);
        assertFalse(e.success());
        assertEquals(84, e.priority());
        assertEquals("cucumber:user:alice failed to list resources with parameters: {:limit=>\"1000\", "
                + ":acting_as=>\"user:bob\"}: The authenticated user lacks the necessary privilege", e.message());
        ReadAudit.list(audit, request("r-3", "10.0.0.7"), alice, "list", "resources",
                ResourcesResource.listParams("cucumber", null, "abc", null, null, false, null, null),
                422, ApiError.of("argument_error", "limit"));
        assertTrue(events.get(1).message().endsWith("{:account=>\"cucumber\", :limit=>\"abc\"}: limit"));
    }

    @Test
    public void resourceDetailsAreAResourceGetEvent() {
        ReadAudit.show(audit, request("r-4", "10.0.0.7"), alice, "cucumber:variable:db", 200, null);
        assertEquals("resource", events.get(0).msgid());
        assertEquals("get", events.get(0).operation());
        assertEquals("cucumber:user:alice successfully fetched resource details.", events.get(0).message());
        assertEquals("cucumber:variable:db", events.get(0).structuredData().get(AuditEvent.SUBJECT).get("resource"));
        ReadAudit.show(audit, request("r-5", "10.0.0.7"), alice, "cucumber:variable:claus",
                404, ApiError.notFound("cucumber", "variable", "claus"));
        assertEquals("cucumber:user:alice failed to fetch resource details: Variable 'claus' not found in account "
                + "'cucumber'", events.get(1).message());
        assertFalse(events.get(1).success());
    }

    @Test
    public void membersAndMembershipsAndGrants() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("account", "cucumber");
        p.put("kind", "group");
        p.put("search", "alice");
        p.put("role", "cucumber:group:dev");
        ReadAudit.list(audit, request("r-6", "10.0.0.7"), alice, "members", "members", p, 200, null);
        assertEquals("cucumber:user:alice successfully listed members with parameters: {:account=>\"cucumber\", "
                + ":kind=>\"group\", :search=>\"alice\", :role=>\"cucumber:group:dev\"}", events.get(0).message());
        ReadAudit.membership(audit, request("r-7", "10.0.0.7"), alice, "cucumber:group:dev/developers",
                "cucumber:user:bob", true);
        AuditEvent g = events.get(1);
        assertEquals("policy", g.msgid());
        assertEquals("add", g.operation());
        assertEquals(85, g.priority());
        assertEquals("cucumber:user:alice added membership of cucumber:user:bob in cucumber:group:dev/developers",
                g.message());
        assertEquals("cucumber:user:bob", g.structuredData().get(AuditEvent.SUBJECT).get("member"));
    }

    @Test
    public void hostileValuesAreQuotedAsRubyWould() {
        assertEquals("[\"a\\\"b\", \"c\\\\d\"]", ReadAudit.inspect(List.of("a\"b", "c\\d")));
        Map<String, String> p = new LinkedHashMap<>();
        p.put("search", "x\"}, :admin=>\"y");
        assertEquals("{:search=>\"x\\\"}, :admin=>\\\"y\"}", ReadAudit.inspect(p));
    }

    @Test
    public void noAuditServiceNoEvent() {
        ReadAudit.show(null, request("r-8", "10.0.0.7"), alice, "cucumber:variable:db", 200, null);
        assertTrue(events.isEmpty());
    }
}
