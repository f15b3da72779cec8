package io.coffer.api.authn;

import java.util.List;

/** Accounts and their bootstrap (a signing key and the {@code admin} user). Write side: Leader only. */
public interface Accounts {

    /**
     * Creates an account with its token-signing key and its {@code admin} user, in one transaction.
     *
     * @param id the account id: 1-64 of letters, digits, {@code _ . -}, starting with a letter or digit
     * @return the admin user's API key; shown once, stored only sealed
     * @throws IllegalArgumentException when the id is invalid
     * @throws IllegalStateException when the account exists
     */
    String create(String id);

    /** @return the account ids, sorted */
    List<String> list();

    /**
     * Deletes an account and everything in it (roles, resources, secrets, policy versions, its signing key), with a
     * change-log row, in one transaction. Tokens it issued stop verifying on every node once the change arrives.
     *
     * @param id the account
     * @return whether it existed
     */
    boolean delete(String id);
}
