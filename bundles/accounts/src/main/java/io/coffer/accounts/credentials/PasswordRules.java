package io.coffer.accounts.credentials;

/** Conjur's password strength rule (CONJ00046E): 12-128 characters, 2 upper, 2 lower, 1 digit, 1 special, no newline. */
final class PasswordRules {
    static final String SPECIAL = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    static final String MESSAGE = "CONJ00046E password must be between 12 and 128 characters and contain at least "
            + "two uppercase letters, two lowercase letters, one digit and one special character";

    private PasswordRules() {
    }

    static boolean strong(String p) {
        if (p.length() < 12 || p.length() > 128 || p.indexOf('\n') >= 0 || p.indexOf('\r') >= 0) {
            return false;
        }
        int upper = 0;
        int lower = 0;
        int digit = 0;
        int special = 0;
        for (char c : p.toCharArray()) {
            if (c >= 'A' && c <= 'Z') {
                upper++;
            } else if (c >= 'a' && c <= 'z') {
                lower++;
            } else if (c >= '0' && c <= '9') {
                digit++;
            } else if (SPECIAL.indexOf(c) >= 0) {
                special++;
            }
        }
        return upper >= 2 && lower >= 2 && digit >= 1 && special >= 1;
    }
}
