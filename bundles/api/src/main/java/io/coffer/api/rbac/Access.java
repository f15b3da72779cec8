package io.coffer.api.rbac;

/** The outcome of a permission check, which also decides 403 versus 404 (conjur-api §0, §4). */
public enum Access {
    /** The role (transitively) owns the resource or holds the privilege on it. */
    ALLOWED,
    /** The role sees the resource (owns it or holds some privilege) but not this privilege: 403. */
    VISIBLE,
    /** The resource doesn't exist or the role can't see it: 404, never revealing which. */
    INVISIBLE
}
