package io.coffer.policy.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One parsed policy statement: a record ({@code !user}, {@code !policy}...) or a grant/permit/delete. */
final class Statement {
    /** A reference to a role or resource as written: its kind and id, and where it was written. */
    static final class Ref {
        final String kind;
        final String id;
        final int line;
        final int column;

        Ref(String kind, String id, int line, int column) {
            this.kind = kind;
            this.id = id;
            this.line = line;
            this.column = column;
        }
    }

    /** A grant's member, optionally with admin option. */
    static final class Member {
        final Ref role;
        final boolean admin;

        Member(Ref role, boolean admin) {
            this.role = role;
            this.admin = admin;
        }
    }

    final String tag;
    final int line;
    final int column;
    String id = "";
    Ref owner;
    final Map<String, String> annotations = new LinkedHashMap<>();
    final List<Statement> body = new ArrayList<>();
    final List<String> restrictedTo = new ArrayList<>();
    final List<String> publicKeys = new ArrayList<>();
    final List<Ref> layers = new ArrayList<>();
    final List<Ref> roles = new ArrayList<>();
    final List<Member> members = new ArrayList<>();
    final List<String> privileges = new ArrayList<>();
    final List<Ref> resources = new ArrayList<>();
    Ref record;
    String customKind;
    String mimeType;

    Statement(String tag, int line, int column) {
        this.tag = tag;
        this.line = line;
        this.column = column;
    }

    boolean isRecord() {
        return Tags.RECORDS.containsKey(tag);
    }

    boolean isDeletion() {
        return tag.equals("!delete") || tag.equals("!revoke") || tag.equals("!deny");
    }
}
