package io.coffer.crypto.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.crypto.internal.KeyAdmin;

/** {@code coffer:keys-status}: locked or not, how the server key is protected, the data-key versions. */
@Service
@Command(scope = "coffer", name = "keys-status", description = "Show whether the node's keys are unlocked and how "
        + "the server key is protected")
public class KeysStatusCommand implements Action {
    @Reference
    private KeyAdmin keys;

    @Override
    public Object execute() {
        keys.status().forEach((k, v) -> System.out.println(k + ": " + v));
        return null;
    }
}
