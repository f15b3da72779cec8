package io.coffer.crypto.command;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

/**
 * {@code coffer:keys-rotate-master --provider P [--key-id K] [--stdin]}: re-wraps the server key under another
 * master key or provider, online; the node stays unlocked and nothing restarts.
 */
@Service
@Command(scope = "coffer", name = "keys-rotate-master", description = "Re-wrap the server key under another master "
        + "key or provider (online)")
public class KeysRotateMasterCommand extends KeysEncryptCommand {
    @Override
    boolean onlyIfCleartext() {
        return false;
    }
}
