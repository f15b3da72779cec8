package io.coffer.api.authn;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Write side: gives a new user or host its API key, inside the caller's transaction. */
public interface Credentials {

    /**
     * Generates an API key in Conjur's format, stores it sealed for {@code roleId} with its {@code restricted_to}.
     *
     * @param c the caller's connection, in a transaction that also creates the role
     * @param roleId the new role, e.g. {@code myorg:host:app/h1}
     * @param restrictedTo CIDRs the role may authenticate from (empty: anywhere)
     * @return the API key, to return once to the caller
     * @throws SQLException when the row can't be written (the caller rolls back)
     */
    String issue(Connection c, String roleId, List<String> restrictedTo) throws SQLException;

    /**
     * Replaces the role's API key (its password, if any, stays), inside the caller's transaction.
     *
     * @param c the caller's connection, in a transaction
     * @param roleId a user or host that has credentials
     * @return the new API key, to return once to the caller
     * @throws SQLException when the row can't be written
     * @throws IllegalArgumentException when the role has no credentials
     */
    String rotate(Connection c, String roleId) throws SQLException;
}
