package io.coffer.api.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The change log (architecture §8): every change commits in one transaction with one row here, whose UUID is the
 * write id. Writers call this inside their own transaction.
 */
public interface ChangeLog {

    /**
     * @param c the writer's connection, inside the transaction that makes the change
     * @param account the account changed ({@code !} for cluster-wide changes)
     * @param kind what changed, e.g. {@code secret-set}
     * @param subject the id it changed, or {@code null}
     * @return the write id
     * @throws SQLException when the row can't be written (the writer rolls back)
     */
    UUID append(Connection c, String account, String kind, String subject) throws SQLException;
}
