package io.coffer.api.store;

import javax.sql.DataSource;

/**
 * The node's database with its schema at the version the store bundle ships. Registered only after migrations
 * succeeded, so a component that references it never sees a missing table.
 */
public interface Database {

    /** @return the pooled connections to the node's own PostgreSQL */
    DataSource dataSource();

    /** @return the schema version, e.g. {@code 2} */
    String schemaVersion();

    /**
     * @param writeId a write id
     * @return whether that write's commit is still waiting for the synchronous Standby after its caller was answered
     *         {@code outcome_unknown} (it is not visible to other transactions until the Standby confirms it)
     */
    default boolean commitWaiting(java.util.UUID writeId) {
        return false;
    }
}
