package io.coffer.crypto.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.crypto.internal.FileKeyProvider;
import io.coffer.crypto.internal.KeyAdmin;

/**
 * {@code coffer:keys-unlock [--stdin]}: unlocks a locked node without a restart, with the provider the server-key
 * file names; {@code --stdin} first supplies a {@code file}-provider master key read from standard input.
 */
@Service
@Command(scope = "coffer", name = "keys-unlock", description = "Unlock the node's keys now (no restart)")
public class KeysUnlockCommand implements Action {
    @Reference
    private KeyAdmin keys;

    @Reference
    private FileKeyProvider file;

    @Option(name = "--stdin", description = "Read a file-provider master key from standard input first")
    boolean stdin;

    @Override
    public Object execute() throws Exception {
        if (stdin) {
            System.out.println("master key " + MasterKeyInput.supply(file) + " supplied");
        }
        System.out.println("keys unlocked: " + keys.unlock());
        return null;
    }
}
