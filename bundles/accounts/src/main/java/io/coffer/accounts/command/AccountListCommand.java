package io.coffer.accounts.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.api.authn.Accounts;

/** {@code coffer:account-list}. */
@Service
@Command(scope = "coffer", name = "account-list", description = "List the accounts")
public class AccountListCommand implements Action {

    @Reference
    private Accounts accounts;

    @Override
    public Object execute() {
        ShellTable t = new ShellTable();
        t.column("Account");
        accounts.list().forEach(a -> t.addRow().addContent(a));
        t.print(System.out);
        return null;
    }
}
