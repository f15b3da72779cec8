package io.coffer.crypto.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.crypto.internal.FileKeyProvider;
import io.coffer.crypto.internal.KeyAdmin;

/** {@code coffer:keys-encrypt --provider P [--key-id K] [--stdin]}: wraps a cleartext server key (online). */
@Service
@Command(scope = "coffer", name = "keys-encrypt", description = "Wrap the cleartext server key under a master key")
public class KeysEncryptCommand implements Action {
    @Reference
    KeyAdmin keys;

    @Reference
    FileKeyProvider file;

    @Option(name = "--provider", required = true, description = "Master-key provider: file, kms, hsm")
    String provider;

    @Option(name = "--key-id", description = "Master key id (default: the provider's configured key)")
    String keyId;

    @Option(name = "--stdin", description = "Read a file-provider master key from standard input")
    boolean stdin;

    /** Whether to refuse an already wrapped server key. */
    boolean onlyIfCleartext() {
        return true;
    }

    @Override
    public Object execute() throws Exception {
        String id = keyId;
        if (stdin) {
            if (!"file".equals(provider)) {
                throw new IllegalArgumentException("--stdin supplies a master key for --provider file only");
            }
            String supplied = MasterKeyInput.supply(file);
            id = id == null ? supplied : id;
        }
        System.out.println(keys.wrap(provider, id, onlyIfCleartext()));
        return null;
    }
}
