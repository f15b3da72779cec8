package io.coffer.blackbox;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;

import java.util.List;

import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The ledger's own rules, without a node: what each request must have produced, and what counts as a miss. */
public class AuditLedgerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<AuditLedger.Expect> expected(String method, String path, int status) {
        return AuditLedger.expected(new AuditLedger.Call(method, path, status, "r"), "demo");
    }

    private static JsonNode events(String... msgidOperationResult) {
        StringBuilder s = new StringBuilder("[");
        for (String e : msgidOperationResult) {
            String[] p = e.split("/");
            s.append(s.length() > 1 ? "," : "").append("{\"msgid\":\"").append(p[0]).append("\",\"sdata\":{\"action@43868\":")
                    .append("{\"operation\":\"").append(p[1]).append("\",\"result\":\"").append(p[2]).append("\"}}}");
        }
        try {
            return JSON.readTree(s.append(']').toString());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    public void aFetchNeedsExactlyOneFetchEvent() {
        List<AuditLedger.Expect> e = expected("GET", "/secrets/demo/variable/db%2Fpassword", 200);
        assertNull(AuditLedger.compare(e, events("fetch/fetch/success")));
        assertNotNull("missing", AuditLedger.compare(e, events()));
        assertNotNull("twice", AuditLedger.compare(e, events("fetch/fetch/success", "fetch/fetch/success")));
        assertNotNull("a failure recorded for a success", AuditLedger.compare(e, events("fetch/fetch/failure")));
        assertNotNull("an event of another kind", AuditLedger.compare(e, events("fetch/fetch/success",
                "update/update/success")));
        assertNull("an integrity event may ride along", AuditLedger.compare(e, events("fetch/fetch/success",
                "integrity/open/failure")));
    }

    @Test
    public void aBatchReadNeedsOneFetchPerVariable() {
        List<AuditLedger.Expect> e = expected("GET", "/secrets?variable_ids=demo%3Avariable%3Aa,demo%3Avariable%3Ab",
                200);
        assertNull(AuditLedger.compare(e, events("fetch/fetch/success", "fetch/fetch/success")));
        assertNotNull(AuditLedger.compare(e, events("fetch/fetch/success")));
    }

    @Test
    public void theRoutesAndOutcomesSection6Audits() {
        assertEquals("authn/authenticate/failure", expected("POST", "/authn/demo/alice/authenticate", 401).get(0)
                .key());
        assertEquals("list/list/success", expected("GET", "/resources/demo/variable?search=db", 200).get(0).key());
        assertEquals("resource/get/failure", expected("GET", "/resources/demo/variable/nope", 404).get(0).key());
        assertEquals("membership/list/success", expected("GET", "/roles/demo/user/alice?memberships", 200).get(0)
                .key());
        assertEquals("members/list/success", expected("GET", "/roles/demo/group/ops?members", 200).get(0).key());
        assertEquals("api-key/rotate/failure", expected("PUT", "/authn/demo/api_key?role=host%3Ax", 403).get(0)
                .key());
        assertEquals("policy/validate/success", expected("POST", "/policies/demo/policy/root?dryRun=true", 201)
                .get(0).key());
        assertEquals("policy/create/failure", expected("POST", "/policies/demo/policy/root", 422).get(0).key());
        assertEquals("authn/update-authenticator-configuration/success",
                expected("PATCH", "/authn-jwt/ci/demo", 204).get(0).key());
    }

    @Test
    public void whatSection6DoesNotAudit() {
        assertNull("no caller", expected("GET", "/resources/demo", 401));
        assertNull("a role's own record", expected("GET", "/roles/demo/user/alice", 200));
        assertNull("?all", expected("GET", "/roles/demo/user/alice?all", 200));
        assertNull("health", expected("GET", "/health", 200));
        assertNull("the JWT status route", expected("GET", "/authn-jwt/ci/demo/status", 200));
        assertNull("another account's trail", expected("GET", "/secrets/other/variable/x", 404));
        assertNull("a node error", expected("GET", "/secrets/demo/variable/x", 503));
        assertNull("a refused grant", expected("POST", "/roles/demo/group/ops?members&member=demo%3Auser%3Ab", 403));
    }
}
