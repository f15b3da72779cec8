package io.coffer.policy.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Qualifies ids the way Conjur's resolver does (conjur-api §3.3): namespaces from enclosing policies, {@code /} and
 * {@code ..} only where Conjur resolves them, users' {@code name@policy-path} form, default owners, duplicates.
 */
final class Resolver {
    private final String account;
    private final Resolved out = new Resolved();

    private Resolver(String account) {
        this.account = account;
    }

    /**
     * @param account the request's account
     * @param target the target policy's identifier ({@code root} or e.g. {@code prod/db})
     * @param rootOwner the owner of the root policy (default owner of top-level records of a root load)
     */
    static Resolved resolve(List<Statement> statements, String account, String target, String rootOwner) {
        Resolver r = new Resolver(account);
        boolean root = target.equals("root");
        r.walk(statements, root ? null : target, root ? rootOwner : account + ":policy:" + target);
        return r.out;
    }

    private void walk(List<Statement> statements, String ns, String defaultOwner) {
        for (Statement s : statements) {
            if (s.isRecord()) {
                record(s, ns, defaultOwner);
            } else {
                statement(s, ns);
            }
        }
    }

    private void record(Statement s, String ns, String defaultOwner) {
        String kind = Tags.RECORDS.get(s.tag);
        if (s.tag.equals("!role") || s.tag.equals("!resource")) {
            if (s.customKind == null || !s.customKind.matches("[a-z][a-z0-9_-]{0,63}")) {
                throw new PolicyException(Tags.typeName(s.tag) + " needs a kind (lower-case letters, digits, _ -)",
                        s.line, s.column);
            }
            kind = s.customKind;
        }
        String identifier = identifier(kind, s.id, ns, false, s.line, s.column, Tags.typeName(s.tag));
        String id = full(kind, identifier);
        String owner = s.owner == null ? defaultOwner : refId(s.owner, ns, true);
        if (s.owner != null) {
            reference(owner, true, s.owner);
        }
        boolean role = Tags.ROLE_KINDS.contains(kind) || s.tag.equals("!role");
        boolean resource = !s.tag.equals("!role");
        if (out.records.containsKey(id)) {
            throw new PolicyException(Tags.typeName(s.tag) + " '" + identifier + "' is declared more than once",
                    s.line, s.column);
        }
        Resolved.Record rec = new Resolved.Record(kind, id, identifier, owner, role, resource,
                new LinkedHashMap<>(s.annotations), new ArrayList<>(s.restrictedTo), s.line, s.column);
        for (Statement.Ref layer : s.layers) {
            if (!layer.kind.equals("layer")) {
                throw new PolicyException("Expected a Layer for field 'layers'", layer.line, layer.column);
            }
            String l = refId(layer, ns, false);
            rec.layers.add(l);
            reference(l, true, layer);
        }
        if (s.tag.equals("!host-factory") && rec.layers.isEmpty()) {
            throw new PolicyException("HostFactory '" + identifier + "' needs at least one layer", s.line, s.column);
        }
        out.records.put(id, rec);
        for (String key : s.publicKeys) {
            // "<algorithm> <base64 key> <name>": each becomes the public_key resource user/<id>/<name>, owned by
            // the user, whose value is the key.
            String[] parts = key.trim().split("\\s+");
            if (parts.length < 3 || !parts[0].matches("ssh-[a-z0-9-]+|ecdsa-sha2-nistp(256|384|521)")
                    || !parts[1].matches("[A-Za-z0-9+/]+={0,2}") || !parts[2].matches("[A-Za-z0-9@._-]{1,128}")) {
                throw new PolicyException("public key of User '" + identifier
                        + "' must be '<algorithm> <key> <name>'", s.line, s.column);
            }
            String keyIdentifier = "user/" + identifier + "/" + parts[2];
            String keyId = full("public_key", keyIdentifier);
            if (out.records.containsKey(keyId)) {
                throw new PolicyException("public key '" + parts[2] + "' of User '" + identifier
                        + "' is declared more than once", s.line, s.column);
            }
            Resolved.Record pk = new Resolved.Record("public_key", keyId, keyIdentifier, id, false, true,
                    new LinkedHashMap<>(), new ArrayList<>(), s.line, s.column);
            pk.value = parts[0] + " " + parts[1] + " " + parts[2];
            out.records.put(keyId, pk);
        }
        if (s.tag.equals("!policy")) {
            walk(s.body, identifier, account + ":policy:" + identifier);
        }
    }

    private void statement(Statement s, String ns) {
        switch (s.tag) {
            case "!grant":
            case "!revoke":
                need(s, !s.roles.isEmpty(), "role");
                need(s, !s.members.isEmpty(), "member");
                for (Statement.Ref role : s.roles) {
                    String r = refId(role, ns, false);
                    reference(r, true, role);
                    for (Statement.Member m : s.members) {
                        String member = refId(m.role, ns, true);
                        reference(member, true, m.role);
                        (s.tag.equals("!grant") ? out.grants : out.revokes).add(new Resolved.Grant(r, member, m.admin));
                    }
                }
                break;
            case "!permit":
            case "!deny":
                need(s, !s.roles.isEmpty(), "role");
                need(s, !s.privileges.isEmpty(), "privilege");
                need(s, !s.resources.isEmpty(), "resource");
                for (Statement.Ref res : s.resources) {
                    String resource = refId(res, ns, false);
                    reference(resource, false, res);
                    for (Statement.Ref role : s.roles) {
                        String r = refId(role, ns, true);
                        reference(r, true, role);
                        for (String p : s.privileges) {
                            if (!p.matches("[A-Za-z0-9_-]{1,64}")) {
                                throw new PolicyException("invalid privilege '" + p + "'", s.line, s.column);
                            }
                            (s.tag.equals("!permit") ? out.permits : out.denies).add(new Resolved.Permit(p, resource, r));
                        }
                    }
                }
                break;
            case "!delete":
                need(s, s.record != null, "record");
                out.deletes.add(refId(s.record, ns, false));
                break;
            default:
                throw new PolicyException("Unrecognized data type '" + s.tag + "'", s.line, s.column);
        }
    }

    private static void need(Statement s, boolean present, String field) {
        if (!present) {
            throw new PolicyException(Tags.typeName(s.tag) + " needs '" + field + "'", s.line, s.column);
        }
    }

    private void reference(String id, boolean role, Statement.Ref where) {
        out.references.add(new Resolved.Reference(id, role, where.line, where.column));
    }

    private String refId(Statement.Ref ref, String ns, boolean allowAbsolute) {
        return full(ref.kind, identifier(ref.kind, ref.id, ns, allowAbsolute, ref.line, ref.column,
                Tags.typeName("!" + ref.kind.replace('_', '-'))));
    }

    private String full(String kind, String identifier) {
        return account + ":" + kind + ":" + identifier;
    }

    /** The resolver's id rules; {@code allowAbsolute} where Conjur resolves {@code /} and {@code ..}. */
    static String identifier(String kind, String raw, String ns, boolean allowAbsolute, int line, int column,
            String type) {
        String id = raw == null ? "" : raw.trim();
        if (id.isEmpty()) {
            if (ns == null) {
                throw new PolicyException(type.toLowerCase(java.util.Locale.ROOT) + " has a blank id", line, column);
            }
            return ns;
        }
        if (id.length() > 2048 || id.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new PolicyException("invalid id '" + printable(id) + "'", line, column);
        }
        if (id.startsWith("/")) {
            if (!allowAbsolute) {
                throw new PolicyException("Illegal absolute id: " + id, line, column);
            }
            return id.substring(1);
        }
        if (allowAbsolute && (id.equals("..") || id.startsWith("../") || id.contains("/../") || id.endsWith("/.."))) {
            List<String> path = new ArrayList<>(ns == null ? List.of() : List.of(ns.split("/")));
            for (String part : id.split("/")) {
                if (part.equals("..")) {
                    if (path.isEmpty()) {
                        throw new PolicyException("Invalid relative reference: " + id, line, column);
                    }
                    path.remove(path.size() - 1);
                } else {
                    path.add(part);
                }
            }
            return String.join("/", path);
        }
        if (kind.equals("user") && ns != null) {
            return id + "@" + ns.replace('/', '-');
        }
        return ns == null ? id : ns + "/" + id;
    }

    private static String printable(String s) {
        return s.replaceAll("[\\x00-\\x1f\\x7f]", "?");
    }
}
