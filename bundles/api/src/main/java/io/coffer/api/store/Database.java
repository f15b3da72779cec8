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
}
