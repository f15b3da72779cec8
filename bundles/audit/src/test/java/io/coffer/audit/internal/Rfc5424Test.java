package io.coffer.audit.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.UUID;

import org.junit.Test;

import io.coffer.api.audit.AuditEvent;

/** Lines as conjur-api §6's examples show them (same SD order, PRI, header). */
public class Rfc5424Test {
    static final Instant T = Instant.parse("2025-01-02T03:04:05.678Z");

    @Test
    public void authnSuccessAsConjurWritesIt() {
        AuditEvent e = AuditEvent.builder("authn", "authenticate", true).time(T).requestId("3f9c")
                .clientIp("172.18.0.5").subject("role", "cucumber:host:app").user("cucumber:host:app")
                .sd(AuditEvent.AUTH, "authenticator", "authn")
                .sd(AuditEvent.AUTH, "service", "cucumber:webservice:conjur/authn")
                .message("cucumber:host:app successfully authenticated with authenticator authn service "
                        + "cucumber:webservice:conjur/authn").build();
        assertEquals("<86>1 2025-01-02T03:04:05.678Z - conjur 3f9c authn [subject@43868 role=\"cucumber:host:app\"]"
                + "[auth@43868 user=\"cucumber:host:app\" authenticator=\"authn\" "
                + "service=\"cucumber:webservice:conjur/authn\"][client@43868 ip=\"172.18.0.5\"]"
                + "[action@43868 result=\"success\" operation=\"authenticate\"] cucumber:host:app successfully "
                + "authenticated with authenticator authn service cucumber:webservice:conjur/authn", Rfc5424.line(e));
    }

    @Test
    public void prioritiesFollowFacilityAndSeverity() {
        assertEquals(84, AuditEvent.builder("authn", "authenticate", false).build().priority());
        assertEquals(86, AuditEvent.builder("fetch", "fetch", true).build().priority());
        assertEquals(85, AuditEvent.builder("policy", "add", true).build().priority());
        assertEquals(85, AuditEvent.builder("policy", "create", false).build().priority());
        assertEquals(38, AuditEvent.builder("identity-check", "check", true).build().priority());
        assertEquals(36, AuditEvent.builder("identity-check", "check", false).build().priority());
    }

    @Test
    public void fetchAndPolicyLines() {
        AuditEvent fetch = AuditEvent.builder("fetch", "fetch", true).time(T).requestId("r1").clientIp("10.0.0.1")
                .user("cucumber:user:eve").subject("resource", "cucumber:variable:probe").subject("version", "1")
                .message("cucumber:user:eve fetched version 1 of cucumber:variable:probe").build();
        assertEquals("<86>1 2025-01-02T03:04:05.678Z - conjur r1 fetch [auth@43868 user=\"cucumber:user:eve\"]"
                + "[subject@43868 resource=\"cucumber:variable:probe\" version=\"1\"][client@43868 ip=\"10.0.0.1\"]"
                + "[action@43868 result=\"success\" operation=\"fetch\"] cucumber:user:eve fetched version 1 of "
                + "cucumber:variable:probe", Rfc5424.line(fetch));
        AuditEvent failed = AuditEvent.builder("policy", "create", false).time(T).requestId("r2").clientIp("10.0.0.1")
                .user("cucumber:user:admin").subject().policy("cucumber:policy:root", null)
                .message("Failed to load policy: User 'bob' not found in account 'cucumber'").build();
        assertEquals("<85>1 2025-01-02T03:04:05.678Z - conjur r2 policy [auth@43868 user=\"cucumber:user:admin\"]"
                + "[subject@43868][client@43868 ip=\"10.0.0.1\"][action@43868 result=\"failure\" operation=\"create\"]"
                + "[policy@43868 id=\"cucumber:policy:root\"] Failed to load policy: User 'bob' not found in account "
                + "'cucumber'", Rfc5424.line(failed));
    }

    @Test
    public void valuesAreEscapedAndControlsRemoved() {
        assertEquals("a\\\"b\\\\c\\]d", Rfc5424.escape("a\"b\\c]d"));
        assertEquals("xy", Rfc5424.escape("x\r\n\u0000\u007f\u0085y"));
        AuditEvent e = AuditEvent.builder("fetch", "fetch", false).time(T).requestId("bad id\n")
                .user("a:user:x\"] [forged@1 a=\"b").subject("resource", "a:variable:v]\n")
                .message("line one\n<86>1 forged").build();
        String line = Rfc5424.line(e);
        assertFalse(line.contains("\n"));
        assertTrue(line, line.contains("[auth@43868 user=\"a:user:x\\\"\\] [forged@1 a=\\\"b\"]"));
        assertTrue(line, line.contains("[subject@43868 resource=\"a:variable:v\\]\"]"));
        assertTrue(line, line.startsWith("<84>1 2025-01-02T03:04:05.678Z - conjur badid fetch "));
        assertTrue(line, line.endsWith("] line one<86>1 forged"));
    }

    @Test
    public void requestIdDefaultsToTheEventId() {
        UUID id = UUID.randomUUID();
        assertEquals(id.toString(), AuditEvent.builder("check", "check", true).id(id).build().requestId());
    }

    @Test(expected = IllegalArgumentException.class)
    public void noSecretBearingParameter() {
        AuditEvent.builder("update", "update", true).subject("value", "hunter2");
    }

    @Test
    public void controlsAreStrippedAndCleanTextIsKept() {
        assertEquals("abcéd", Rfc5424.stripControls("a\nb\r\u0000c\u00e9\u0085d"));
        String clean = "demo:user:admin fetched demo:variable:db/password";
        assertTrue(clean == Rfc5424.stripControls(clean));
        assertEquals("", Rfc5424.stripControls("\n\t"));
    }

    @Test
    public void theJsonLineWithRenderedDataIsTheSameLine() {
        AuditEvent e = AuditEvent.builder("fetch", "fetch", true).user("acct:user:alice")
                .subject("resource", "acct:variable:x\"y]").build();
        Formatted f = Formatted.of(e);
        assertEquals(JsonLine.of(e), f.json());
        assertEquals(Rfc5424.line(e), f.line());
    }
}
