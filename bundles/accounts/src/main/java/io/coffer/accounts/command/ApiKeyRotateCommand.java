package io.coffer.accounts.command;

import java.sql.Connection;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.authn.Credentials;
import io.coffer.api.store.ChangeLog;
import io.coffer.api.store.Database;

/** {@code coffer:api-key-rotate ACCOUNT KIND:ID}: gives a user or host a new API key and prints it (shown once). */
@Service
@Command(scope = "coffer", name = "api-key-rotate", description = "Rotate a user's or host's API key")
public class ApiKeyRotateCommand implements Action {
    @Reference
    private Credentials credentials;

    @Reference
    private Database db;

    @Reference
    private ChangeLog changes;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    String account;

    @Argument(index = 1, name = "role", required = true, description = "user:alice or host:apps/ci")
    String role;

    @Override
    public Object execute() throws Exception {
        String id = account + ":" + role;
        if (!role.startsWith("user:") && !role.startsWith("host:")) {
            throw new IllegalArgumentException("only users and hosts have API keys");
        }
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                String key = credentials.rotate(c, id);
                changes.append(c, account, "api-key-rotate", id);
                c.commit();
                System.out.println("new API key for " + id + " (shown once):");
                System.out.println(key);
            } catch (IllegalArgumentException e) {
                c.rollback();
                throw new IllegalArgumentException("no credentials for " + id, e);
            } catch (Exception e) {
                c.rollback();
                throw e;
            }
        }
        return null;
    }
}
