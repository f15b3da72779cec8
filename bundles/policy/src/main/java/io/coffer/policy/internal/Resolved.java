package io.coffer.policy.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A policy with every id qualified ({@code account:kind:identifier}): what the loader writes. */
final class Resolved {
    /** A declared role and/or resource. */
    static final class Record {
        final String kind;
        final String id;
        final String identifier;
        final String owner;
        final boolean role;
        final boolean resource;
        final Map<String, String> annotations;
        final List<String> restrictedTo;
        final List<String> layers = new ArrayList<>();
        /** For {@code public_key} records made from a user's {@code public_keys}: the key text, stored as a secret. */
        String value;
        final int line;
        final int column;

        Record(String kind, String id, String identifier, String owner, boolean role, boolean resource,
                Map<String, String> annotations, List<String> restrictedTo, int line, int column) {
            this.kind = kind;
            this.id = id;
            this.identifier = identifier;
            this.owner = owner;
            this.role = role;
            this.resource = resource;
            this.annotations = annotations;
            this.restrictedTo = restrictedTo;
            this.line = line;
            this.column = column;
        }
    }

    /** role ← member (admin option). */
    static final class Grant {
        final String role;
        final String member;
        final boolean admin;

        Grant(String role, String member, boolean admin) {
            this.role = role;
            this.member = member;
            this.admin = admin;
        }
    }

    /** role may privilege on resource. */
    static final class Permit {
        final String privilege;
        final String resource;
        final String role;

        Permit(String privilege, String resource, String role) {
            this.privilege = privilege;
            this.resource = resource;
            this.role = role;
        }
    }

    /** An id referenced but not declared here: it must exist already. */
    static final class Reference {
        final String id;
        final boolean role;
        final int line;
        final int column;

        Reference(String id, boolean role, int line, int column) {
            this.id = id;
            this.role = role;
            this.line = line;
            this.column = column;
        }
    }

    final Map<String, Record> records = new LinkedHashMap<>();
    final List<Grant> grants = new ArrayList<>();
    final List<Grant> revokes = new ArrayList<>();
    final List<Permit> permits = new ArrayList<>();
    final List<Permit> denies = new ArrayList<>();
    final List<String> deletes = new ArrayList<>();
    final List<Reference> references = new ArrayList<>();

    boolean hasDeletions() {
        return !revokes.isEmpty() || !denies.isEmpty() || !deletes.isEmpty();
    }
}
