package io.coffer.store.internal;

import javax.sql.DataSource;

import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;
import io.coffer.postgres.internal.TestPostgres;

/** A real, throw-away PostgreSQL with Coffer's schema, for other modules' tests (in this module's test-jar). */
public final class TestDatabase implements Database, AutoCloseable {
    private final TestPostgres pg;
    private final DataSource ds;

    public TestDatabase() throws Exception {
        pg = new TestPostgres();
        ds = pg.dataSource();
        SchemaMigrator m = new SchemaMigrator(ds, null);
        if (!m.check().ok()) {
            throw new IllegalStateException("schema migration failed: " + m.check().details());
        }
    }

    @Override
    public DataSource dataSource() {
        return ds;
    }

    @Override
    public String schemaVersion() {
        return String.valueOf(new SchemaMigrator(ds, null).check().details().get("version"));
    }

    /** @return the change log writing into this database */
    public ChangeLog changeLog() {
        return new DbChangeLog(this);
    }

    @Override
    public void close() throws Exception {
        pg.close();
    }
}
