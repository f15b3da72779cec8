package io.coffer.accounts.credentials;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class PasswordRulesTest {
    @Test
    public void conjursStrengthRule() {
        assertTrue(PasswordRules.strong("ABcd1234!xyz"));
        assertTrue(PasswordRules.strong("AB cd 12 ~~ zz"));
        assertFalse("too short", PasswordRules.strong("ABcd123!xyz"));
        assertFalse("one upper", PasswordRules.strong("Abcd1234!xyz"));
        assertFalse("one lower", PasswordRules.strong("ABCD1234!XYz"));
        assertFalse("no digit", PasswordRules.strong("ABcdefgh!xyz"));
        assertFalse("no special", PasswordRules.strong("ABcd12345xyz"));
        assertFalse("newline", PasswordRules.strong("ABcd1234!xyz\n"));
        assertFalse("too long", PasswordRules.strong("ABcd1234!" + "x".repeat(120)));
    }
}
