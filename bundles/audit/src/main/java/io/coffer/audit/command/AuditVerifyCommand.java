package io.coffer.audit.command;

import java.nio.file.Path;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.coffer.audit.internal.AuditComponent;

/**
 * {@code coffer:audit-verify}: checks this node's audit chain (every line's MAC, every checkpoint's signature, the
 * sequence across rotated files, and the tail against the running writer and {@code audit_events}); fails when
 * anything was tampered with.
 */
@Service
@Command(scope = "coffer", name = "audit-verify", description = "Verify this node's tamper-evident audit chain")
public class AuditVerifyCommand implements Action {
    @Reference
    private AuditComponent audit;

    @Option(name = "--expect-seq", description = "The files must reach at least this seq (e.g. the last checkpoint "
            + "a SIEM received)")
    Long expectSeq;

    @Option(name = "--public-key", description = "Print the checkpoints' Ed25519 public key (hex) and stop")
    boolean publicKey;

    @Option(name = "--export-keys", description = "Write the audit keys to a new owner-only FILE for offline "
            + "verification (AuditVerifier --keys FILE), and stop")
    String exportKeys;

    @Override
    public Object execute() throws Exception {
        if (publicKey) {
            String k = audit.publicKey();
            if (k == null) {
                throw new IllegalStateException("the node's keys are locked");
            }
            System.out.println(k);
            return null;
        }
        if (exportKeys != null) {
            audit.exportKeys(Path.of(exportKeys));
            System.out.println("audit keys of node " + audit.node() + " written to " + exportKeys
                    + " (owner-only; the MAC key can forge lines after the last checkpoint: keep it offline)");
            return null;
        }
        AuditComponent.Verification v = audit.verify(expectSeq);
        System.out.println(v.report());
        if (!v.ok()) {
            throw new IllegalStateException("the audit chain of node " + audit.node() + " was tampered with");
        }
        return null;
    }
}
