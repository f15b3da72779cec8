package io.coffer.secrets.command;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Arrays;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.api.secrets.SecretWriter;
import io.coffer.api.store.Database;

/**
 * {@code coffer:secret-set ACCOUNT VARIABLE < value}: the value comes from standard input only, never from an
 * argument (arguments end up in shell history and process listings). Registered only where a {@link SecretWriter}
 * exists: the Leader.
 */
@Service
@Command(scope = "coffer", name = "secret-set", description = "Set a variable's value, read from standard input")
public class SecretSetCommand implements Action {
    static final int MAX_VALUE = 10 * 1024 * 1024;

    @Reference
    private SecretWriter writer;

    @Reference
    private Database db;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    @Completion(VariableCompleter.class)
    String account;

    @Argument(index = 1, name = "variable", required = true, description = "Variable id, e.g. db/password")
    @Completion(VariableCompleter.class)
    String variable;

    @Override
    public Object execute() throws Exception {
        String id = account + ":variable:" + variable;
        if (!VariableCompleter.exists(db, id)) {
            throw new IllegalArgumentException("no variable " + id + " (declare it in policy first)");
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        InputStream in = System.in;
        byte[] chunk = new byte[8192];
        for (int n; (n = in.read(chunk)) > 0;) {
            if (buf.size() + n > MAX_VALUE) {
                throw new IllegalArgumentException("value larger than " + MAX_VALUE + " bytes");
            }
            buf.write(chunk, 0, n);
        }
        Arrays.fill(chunk, (byte) 0);
        byte[] value = buf.toByteArray();
        try {
            if (new String(value, java.nio.charset.StandardCharsets.ISO_8859_1).isBlank()) {
                throw new IllegalArgumentException("the value may not be empty");
            }
            int v = writer.append(id, value);
            System.out.println(id + " is at version " + v);
        } finally {
            Arrays.fill(value, (byte) 0);
        }
        return null;
    }
}
