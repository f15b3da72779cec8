package io.coffer.policy.internal;

import java.util.Map;
import java.util.Set;

/** The policy language's vocabulary (conjur-api §3.2): tags, their kinds, their fields and type names. */
final class Tags {
    /** Record tags → the kind of the role/resource they declare. */
    static final Map<String, String> RECORDS = Map.of("!policy", "policy", "!user", "user", "!host", "host",
            "!group", "group", "!layer", "layer", "!variable", "variable", "!webservice", "webservice",
            "!host-factory", "host_factory", "!role", "role", "!resource", "resource");
    static final Set<String> STATEMENTS = Set.of("!grant", "!revoke", "!permit", "!deny", "!delete");
    /** Kinds that are roles (have a role row); the others are resources only. */
    static final Set<String> ROLE_KINDS = Set.of("policy", "user", "host", "group", "layer", "host_factory");
    static final Set<String> RESOURCE_ONLY = Set.of("variable", "webservice");

    private static final Set<String> COMMON = Set.of("id", "owner", "annotations");
    static final Map<String, Set<String>> FIELDS = Map.ofEntries(
            Map.entry("!policy", union(COMMON, "body")),
            Map.entry("!user", union(COMMON, "uidnumber", "public_key", "public_keys", "restricted_to")),
            Map.entry("!host", union(COMMON, "restricted_to")),
            Map.entry("!group", union(COMMON, "gidnumber")),
            Map.entry("!layer", COMMON),
            Map.entry("!variable", union(COMMON, "kind", "mime_type")),
            Map.entry("!webservice", COMMON),
            Map.entry("!host-factory", union(COMMON, "layer", "layers", "role")),
            Map.entry("!role", union(COMMON, "kind")),
            Map.entry("!resource", union(COMMON, "kind")),
            Map.entry("!grant", Set.of("role", "roles", "member", "members")),
            Map.entry("!revoke", Set.of("role", "roles", "member", "members")),
            Map.entry("!permit", Set.of("role", "roles", "privilege", "privileges", "resource", "resources")),
            Map.entry("!deny", Set.of("role", "roles", "privilege", "privileges", "resource", "resources")),
            Map.entry("!delete", Set.of("record")),
            Map.entry("!member", Set.of("role", "admin")));

    private Tags() {
    }

    /** @return Conjur's type name for messages: {@code !host-factory} → {@code HostFactory} */
    static String typeName(String tag) {
        StringBuilder b = new StringBuilder();
        for (String part : tag.substring(1).split("-")) {
            b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return b.toString();
    }

    private static Set<String> union(Set<String> base, String... more) {
        java.util.HashSet<String> s = new java.util.HashSet<>(base);
        s.addAll(java.util.List.of(more));
        return Set.copyOf(s);
    }
}
