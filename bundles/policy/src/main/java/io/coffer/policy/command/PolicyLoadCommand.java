package io.coffer.policy.command;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import javax.ws.rs.core.Response;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.apache.karaf.shell.support.table.ShellTable;

import io.coffer.policy.internal.PolicyResource;

/**
 * {@code coffer:policy-load ACCOUNT POLICY FILE [-m post|patch|put]}: loads policy YAML as the account's admin, with
 * the API's exact semantics; {@code -} reads the YAML from standard input. New roles' API keys are printed once.
 */
@Service
@Command(scope = "coffer", name = "policy-load", description = "Load policy YAML from a file (or - for stdin); options go before the arguments")
public class PolicyLoadCommand implements Action {
    @Reference
    private PolicyResource policies;

    @Argument(index = 0, name = "account", required = true, description = "Account")
    String account;

    @Argument(index = 1, name = "policy", required = true, description = "Policy id to load into, e.g. root")
    String policy;

    @Argument(index = 2, name = "file", required = true, description = "Policy YAML file, or - for stdin")
    @Completion(FileCompleter.class)
    String file;

    @Option(name = "-m", aliases = "--mode", description = "post (add, default), patch (update) or put (replace)")
    @Completion(value = StringsCompleter.class, values = {"post", "patch", "put"})
    String mode = "post";

    @Option(name = "--dry-run", description = "Validate only; persist nothing")
    boolean dryRun;

    @Override
    public Object execute() throws Exception {
        String m = mode.toUpperCase(Locale.ROOT);
        if (!m.equals("POST") && !m.equals("PATCH") && !m.equals("PUT")) {
            throw new IllegalArgumentException("mode must be post, patch or put");
        }
        byte[] text;
        if (file.equals("-")) {
            InputStream in = System.in;
            text = in.readNBytes(PolicyResource.MAX_BYTES + 1);
        } else {
            text = Files.readAllBytes(Path.of(file));
        }
        Response r = policies.load(m, account, policy, dryRun, text, account + ":user:admin", "shell");
        Object entity = r.getEntity();
        if (r.getStatus() >= 300) {
            throw new IllegalArgumentException("policy not loaded (" + r.getStatus() + "): " + (entity == null ? "" : entity));
        }
        if (entity instanceof Map) {
            Map<?, ?> body = (Map<?, ?>) entity;
            if (body.containsKey("version")) {
                System.out.println("loaded " + account + ":policy:" + policy + " as version " + body.get("version"));
            } else {
                System.out.println(body.get("status"));
            }
            Object created = body.get("created_roles");
            if (created instanceof Map && !((Map<?, ?>) created).isEmpty()) {
                ShellTable t = new ShellTable();
                t.column("Created role");
                t.column("API key (shown once)");
                ((Map<?, ?>) created).forEach((id, v) -> t.addRow().addContent(id, ((Map<?, ?>) v).get("api_key")));
                t.print(System.out);
            }
        }
        return null;
    }
}
