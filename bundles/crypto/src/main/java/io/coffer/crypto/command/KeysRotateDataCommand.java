package io.coffer.crypto.command;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.crypto.internal.KeyAdmin;

/**
 * {@code coffer:keys-rotate-data [--wait]} (Leader): a new data-key version for new values, every sealed value
 * re-encrypted under it in the background (resumed after a crash), older versions destroyed once unused.
 */
@Service
@Command(scope = "coffer", name = "keys-rotate-data", description = "Rotate the data key (Leader): new version, "
        + "background re-encryption, older versions destroyed when unused")
public class KeysRotateDataCommand implements Action {
    @Reference
    private KeyAdmin keys;

    @Option(name = "--wait", description = "Return only when every value is re-encrypted")
    boolean await;

    @Override
    public Object execute() throws Exception {
        System.out.println(keys.rotateData(await));
        return null;
    }
}
