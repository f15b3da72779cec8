package io.coffer.accounts.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.authn.Accounts;

/** {@code coffer:account-create NAME}: creates an account and prints its admin API key (shown once). */
@Service
@Command(scope = "coffer", name = "account-create", description = "Create an account with its admin user")
public class AccountCreateCommand implements Action {

    @Reference
    private Accounts accounts;

    @Argument(index = 0, name = "account", description = "Account id (letters, digits, _ . -)", required = true)
    String account;

    @Override
    public Object execute() {
        String key = accounts.create(account);
        System.out.println("account " + account + " created; admin API key (shown once):");
        System.out.println(key);
        return null;
    }
}
