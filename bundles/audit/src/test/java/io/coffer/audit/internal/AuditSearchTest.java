package io.coffer.audit.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.coffer.api.audit.AuditEvent;
import io.coffer.store.internal.TestDatabase;

/** Searching audit_events on a real PostgreSQL with Coffer's schema: filters, scope, paging, refusals. */
public class AuditSearchTest {
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static TestDatabase db;
    private static AuditSearchService search;

    @BeforeClass
    public static void start() throws Exception {
        db = new TestDatabase();
        search = new AuditSearchService(db);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            events.add(AuditEvent.builder("fetch", "fetch", i % 3 != 0).time(T0.plusSeconds(i)).requestId("r" + i)
                    .clientIp("10.0.0." + i).user("s1:user:alice").subject("resource", "s1:variable:v" + (i % 5))
                    .message("fetch " + i).build());
        }
        events.add(AuditEvent.builder("policy", "add", true).time(T0.plusSeconds(40)).requestId("p1")
                .user("s1:user:admin").subject("role", "s1:group:g").subject("member", "s1:user:bob")
                .policy("s1:policy:root", "3").message("s1:user:admin added membership of s1:user:bob in s1:group:g")
                .build());
        events.add(AuditEvent.builder("authn", "authenticate", false).time(T0.plusSeconds(41)).requestId("a1")
                .subject("role", "s1:user:nobody").user("not-found").sd(AuditEvent.AUTH, "service",
                        "s1:webservice:conjur/authn").message("failed").build());
        events.add(AuditEvent.builder("fetch", "fetch", true).time(T0.plusSeconds(42)).requestId("o1")
                .user("other:user:alice").subject("resource", "other:variable:v0").message("other account").build());
        AuditTable.insert(db.dataSource(), events);
    }

    @AfterClass
    public static void stop() throws Exception {
        db.close();
    }

    private static Map<String, List<String>> q(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], List.of(kv[i + 1]));
        }
        return m;
    }

    private static List<String> procids(String account, String... kv) {
        List<String> out = new ArrayList<>();
        search.search(account, q(kv)).forEach(e -> out.add((String) e.get("procid")));
        return out;
    }

    @Test
    public void newestFirstScopedToTheAccountInConjursShape() {
        List<Map<String, Object>> all = search.search("s1", q());
        assertEquals(32, all.size());
        Map<String, Object> newest = all.get(0);
        assertEquals("a1", newest.get("procid"));
        assertEquals(10, newest.get("facility"));
        assertEquals(4, newest.get("severity"));
        assertEquals("2026-03-01T10:00:41.000Z", newest.get("timestamp"));
        assertEquals("conjur", newest.get("appname"));
        assertEquals("authn", newest.get("msgid"));
        assertTrue(newest.toString(), newest.get("sdata") instanceof Map);
        assertEquals(List.of("o1"), procids("other"));
    }

    @Test
    public void filtersCombine() {
        assertEquals(List.of("r27", "r24", "r21"), procids("s1", "outcome", "failure", "since",
                "2026-03-01T10:00:20Z", "until", "2026-03-01T10:00:30Z"));
        assertEquals(List.of("r29", "r24", "r19", "r14", "r9", "r4"), procids("s1", "resource", "s1:variable:v4"));
        assertEquals(List.of("p1"), procids("s1", "role", "s1:user:bob"));
        assertEquals(List.of("p1"), procids("s1", "entity", "s1:policy:root"));
        assertEquals(List.of("a1"), procids("s1", "resource", "s1:webservice:conjur/authn"));
        assertEquals(List.of("a1"), procids("s1", "role", "s1:user:nobody"));
        assertEquals(List.of("p1"), procids("s1", "action", "add", "msgid", "policy"));
        assertEquals(List.of("r5"), procids("s1", "procid", "r5"));
        assertEquals(List.of("r5"), procids("s1", "client@43868/ip", "10.0.0.5"));
        assertEquals(List.of("p1"), procids("s1", "severity", "5", "facility", "10"));
        assertEquals(List.of(), procids("s1", "resource", "other:variable:v0"));
    }

    @Test
    public void pagingIsBounded() {
        // a1, p1, r29 come first
        assertEquals(List.of("r28", "r27"), procids("s1", "limit", "2", "offset", "3"));
        assertEquals(32, search.search("s1", q("limit", "1000")).size());
        assertEquals(List.of(), procids("s1", "offset", "1000000"));
    }

    @Test
    public void badInputIsRefusedByName() {
        String[][] bad = {{"limit", "0"}, {"limit", "1001"}, {"limit", "x"}, {"offset", "-1"},
            {"since", "yesterday"}, {"outcome", "ok"}, {"action", "DROP TABLE"}, {"resouce", "s1:variable:v1"},
            {"resource", "v1"}, {"facility", "24"}, {"subject@43868/role'", "x"}, {"procid", "a b"}};
        for (String[] b : bad) {
            try {
                search.search("s1", q(b));
                fail(b[0] + "=" + b[1] + " was accepted");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("'" + b[0].replace("'", "") )
                        || expected.getMessage().contains("unknown parameter"));
            }
        }
        Map<String, List<String>> twice = new LinkedHashMap<>();
        twice.put("msgid", List.of("a", "b"));
        try {
            search.search("s1", twice);
            fail("a repeated filter was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("once"));
        }
    }

    /** Migration V7 gives rows from before it their account. */
    @Test
    public void theMigrationBackfillsAccounts() throws Exception {
        String sql;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(
                "db/migration/V7__audit_chain_and_queries.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String update = sql.substring(sql.indexOf("UPDATE audit_events"), sql.indexOf(';', sql.indexOf("UPDATE")));
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE audit_events SET account = NULL WHERE request_id IN ('a1', 'p1', 'r3')");
            s.executeUpdate(update);
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_events WHERE request_id IN ('a1', 'p1', "
                    + "'r3') AND account = 's1'")) {
                rs.next();
                assertEquals(3, rs.getInt(1));
            }
        }
    }
}
