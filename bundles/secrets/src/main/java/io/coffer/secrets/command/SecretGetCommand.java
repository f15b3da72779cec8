package io.coffer.secrets.command;

import java.io.PrintStream;
import java.util.Arrays;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.secrets.internal.SecretsResource;

/** {@code coffer:secret-get ACCOUNT VARIABLE [-v N]}: writes the value, as bytes, to the session's output. */
@Service
@Command(scope = "coffer", name = "secret-get", description = "Print a variable's value (latest or a version)")
public class SecretGetCommand implements Action {
    @Reference
    private SecretsResource secrets;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    @Completion(VariableCompleter.class)
    String account;

    @Argument(index = 1, name = "variable", required = true, description = "Variable id, e.g. db/password")
    @Completion(VariableCompleter.class)
    String variable;

    @Option(name = "-v", aliases = "--version", description = "Version (default: the latest)")
    Integer version;

    @Override
    public Object execute() throws Exception {
        byte[] value = secrets.read(account + ":variable:" + variable, version);
        if (value == null) {
            throw new IllegalArgumentException("no value for " + account + ":variable:" + variable
                    + (version != null ? " version " + version : ""));
        }
        try {
            PrintStream out = System.out;
            out.write(value);
            out.flush();
        } finally {
            Arrays.fill(value, (byte) 0);
        }
        return null;
    }
}
