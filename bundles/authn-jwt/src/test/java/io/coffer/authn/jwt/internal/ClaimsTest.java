package io.coffer.authn.jwt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;

import org.junit.Test;

/** Claim paths, claim values as text, and the enforced-claims and claim-aliases formats. */
public class ClaimsTest {

    @Test
    public void claimPathsWalkNestedObjects() {
        Map<String, Object> claims = Map.of("sub", "builder", "kubernetes.io", Map.of("namespace", "prod"),
                "n", 42L, "f", 1.5, "b", true, "groups", List.of("a"));
        assertEquals("builder", Claims.lookup(claims, "sub"));
        assertEquals("prod", Claims.lookup(claims, "kubernetes.io/namespace"));
        assertNull(Claims.lookup(claims, "sub/deeper"));
        assertNull(Claims.lookup(claims, "missing"));
        assertEquals("42", Claims.text(claims.get("n")));
        assertEquals("1.5", Claims.text(claims.get("f")));
        assertEquals("true", Claims.text(claims.get("b")));
        assertNull("arrays don't compare as text", Claims.text(claims.get("groups")));
        assertTrue(Claims.validPath("kubernetes.io/namespace"));
        assertTrue(Claims.validPath("job_workflow_ref"));
        for (String bad : new String[] {"", "/sub", "sub/", "a//b", "1abc", "a b", "a:b"}) {
            assertFalse(bad, Claims.validPath(bad));
        }
    }

    @Test
    public void enforcedClaimsAreCommaSeparatedDistinctAndNotRegistered() throws Exception {
        assertEquals(List.of("ref", "project/path"), Claims.enforced(" ref , project/path"));
        assertInvalid(() -> Claims.enforced(" "), "CONJ00106E");
        assertInvalid(() -> Claims.enforced("ref,,x"), "CONJ00107E");
        assertInvalid(() -> Claims.enforced("ref, ref"), "CONJ00108E");
        assertInvalid(() -> Claims.enforced("ref, iss"), "CONJ00105E");
    }

    @Test
    public void claimAliasesMapAnnotationNamesToClaims() throws Exception {
        assertEquals(Map.of("branch", "ref", "ns", "kubernetes.io/namespace"),
                Claims.aliases("branch: ref, ns:kubernetes.io/namespace"));
        assertInvalid(() -> Claims.aliases(""), "CONJ00109E");
        assertInvalid(() -> Claims.aliases("a:b,,c:d"), "CONJ00110E");
        assertInvalid(() -> Claims.aliases("a"), "CONJ00111E");
        assertInvalid(() -> Claims.aliases("a:b:c"), "CONJ00111E");
        assertInvalid(() -> Claims.aliases("a:b c"), "CONJ00112E");
        assertInvalid(() -> Claims.aliases("a/x:b"), "CONJ00114E");
        assertInvalid(() -> Claims.aliases("a:b, a:c"), "CONJ00113E");
        assertInvalid(() -> Claims.aliases("a:b, c:b"), "CONJ00113E");
        assertInvalid(() -> Claims.aliases("a:exp"), "CONJ00105E");
    }

    interface Parse {
        Object run() throws Claims.Invalid;
    }

    static void assertInvalid(Parse p, String code) {
        try {
            p.run();
            fail("accepted; expected " + code);
        } catch (Claims.Invalid e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(code + " "));
        }
    }
}
