package io.coffer.api.authn;

/** Conjur's mapping between logins and role ids: {@code alice} is {@code user:alice}, {@code host/x} is {@code host:x}. */
public final class Logins {
    private Logins() {
    }

    /**
     * @param login a login such as {@code alice}, {@code host/apps/ci} or {@code user/alice}
     * @return {@code kind:identifier}, splitting once on the first {@code /}; no slash means a user
     */
    public static String roleIdTail(String login) {
        int slash = login.indexOf('/');
        return slash < 0 ? "user:" + login : login.substring(0, slash) + ":" + login.substring(slash + 1);
    }

    /**
     * @param kind a role kind
     * @param identifier the role's identifier
     * @return the login: the identifier for users, {@code kind/identifier} otherwise
     */
    public static String login(String kind, String identifier) {
        return "user".equals(kind) ? identifier : kind + "/" + identifier;
    }
}
