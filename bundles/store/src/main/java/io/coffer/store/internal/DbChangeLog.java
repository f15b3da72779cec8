package io.coffer.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/** Writes change-log rows; available once the schema (and so the table) exists. */
@Component(service = ChangeLog.class)
public class DbChangeLog implements ChangeLog {

    @Activate
    public DbChangeLog(@Reference Database schemaReady) {
        // The reference only orders activation after migrations; rows go through the caller's connection.
    }

    @Override
    public UUID append(Connection c, String account, String kind, String subject) throws SQLException {
        UUID id = io.coffer.api.RandomIds.uuid();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO change_log(write_id, account, kind, subject) VALUES (?, ?, ?, ?)")) {
            ps.setObject(1, id);
            ps.setString(2, account);
            ps.setString(3, kind);
            ps.setString(4, subject);
            ps.executeUpdate();
        }
        if (c.isWrapperFor(BoundedCommits.WriteIds.class)) {
            // This transaction is a write: its commit is bounded and an unknown outcome names this id.
            c.unwrap(BoundedCommits.WriteIds.class).wrote(id);
        }
        return id;
    }
}
