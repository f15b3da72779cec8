package io.coffer.authn.jwt.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Conjur's rules for naming JWT claims in configuration and annotations: claim paths ({@code a/b} walks nested
 * objects), the registered claims no restriction may use, and the {@code enforced-claims} and {@code claim-aliases}
 * formats. Parsing errors carry Conjur's codes; they name claims, never values.
 */
final class Claims {
    /** Registered claims checked by the verifier; a role restriction on them would be meaningless or unsafe. */
    static final Set<String> DENYLIST = Set.of("iss", "exp", "nbf", "iat", "jti", "aud");
    private static final String SEGMENT = "[A-Za-z$_][A-Za-z0-9$_.\\-]*";
    private static final Pattern PATH = Pattern.compile(SEGMENT + "(/" + SEGMENT + ")*");

    private Claims() {
    }

    /** Thrown for a malformed claim setting; the message is Conjur's, with its code. */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) {
            super(message);
        }
    }

    /** @return whether {@code path} is a claim path: segments of letters, digits, {@code $ _ . -} joined by {@code /} */
    static boolean validPath(String path) {
        return path != null && path.length() <= 256 && PATH.matcher(path).matches();
    }

    /**
     * @param claims the token's claims as JSON-shaped maps and lists
     * @param path a claim path such as {@code sub} or {@code kubernetes.io/namespace}
     * @return the value, or {@code null} when a segment is missing or not an object
     */
    static Object lookup(Map<String, Object> claims, String path) {
        Object node = claims;
        for (String segment : path.split("/")) {
            if (!(node instanceof Map)) {
                return null;
            }
            node = ((Map<?, ?>) node).get(segment);
        }
        return node;
    }

    /**
     * Claim values compare as text, the way restrictions are written in policy annotations.
     *
     * @return the scalar's text ({@code 42}, {@code true}, {@code main}); {@code null} for objects, arrays or nothing
     */
    static String text(Object value) {
        if (value instanceof String) {
            return (String) value;
        }
        if (value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Number) {
            double d = ((Number) value).doubleValue();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : value.toString();
        }
        return null;
    }

    /** @param raw {@code enforced-claims}: claim paths separated by commas */
    static List<String> enforced(String raw) throws Invalid {
        if (raw.isBlank()) {
            throw new Invalid("CONJ00106E Failed to parse enforced claims: enforced claim value is empty or was not found.");
        }
        Set<String> out = new LinkedHashSet<>();
        for (String item : raw.split(",", -1)) {
            String claim = item.trim();
            if (!validPath(claim)) {
                throw new Invalid("CONJ00107E List of enforced claims '" + raw.trim()
                        + "' is in invalid format. Separate claim names with commas.");
            }
            if (DENYLIST.contains(claim)) {
                throw new Invalid(denied(claim));
            }
            if (!out.add(claim)) {
                throw new Invalid("CONJ00108E List of enforced claims '" + raw.trim() + "' must not contain duplications.");
            }
        }
        return Collections.unmodifiableList(new ArrayList<>(out));
    }

    /**
     * @param raw {@code claim-aliases}: {@code annotation_name:claim_path} pairs separated by commas
     * @return annotation name → claim path, in the order given
     */
    static Map<String, String> aliases(String raw) throws Invalid {
        if (raw.isBlank()) {
            throw new Invalid("CONJ00109E Failed to parse claim aliases: the claim aliases value is empty or was not found.");
        }
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> targets = new LinkedHashSet<>();
        for (String item : raw.split(",", -1)) {
            String pair = item.trim();
            if (pair.isEmpty()) {
                throw new Invalid("CONJ00110E Failed to parse claim aliases: one or more mapping statements are blank "
                        + "or empty '" + raw.trim() + "'.");
            }
            String[] parts = pair.split(":", -1);
            if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
                throw new Invalid("CONJ00111E Failed to parse claim aliases: the claim alias value '" + pair
                        + "' is in invalid format.The correct format is: 'annotation_name:claim_name'");
            }
            String name = parts[0].trim();
            String claim = parts[1].trim();
            if (name.contains("/")) {
                throw new Invalid("CONJ00114E Failed to parse claim aliases: the claim alias name '" + name
                        + "' contains '/'.");
            }
            for (String c : new String[] {name, claim}) {
                if (!validPath(c)) {
                    throw new Invalid("CONJ00112E Failed to parse claim aliases: one of the claims in the claim alias "
                            + "value '" + pair + "' is in an invalid format : '" + c + "' is not a claim path.");
                }
                if (DENYLIST.contains(c)) {
                    throw new Invalid(denied(c));
                }
            }
            if (out.put(name, claim) != null) {
                throw new Invalid("CONJ00113E Failed to parse claim aliases: annotation name value '" + name
                        + "' appears more than once");
            }
            if (!targets.add(claim)) {
                throw new Invalid("CONJ00113E Failed to parse claim aliases: claim name value '" + claim
                        + "' appears more than once");
            }
        }
        return Collections.unmodifiableMap(out);
    }

    static String denied(String claim) {
        return "CONJ00105E Failed to validate claim: claim name '" + claim + "' is in denylist '"
                + String.join(",", new java.util.TreeSet<>(DENYLIST)) + "'";
    }
}
