package io.coffer.audit.internal;

import java.io.IOException;
import java.nio.file.Path;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.audit.Audit;
import io.coffer.api.audit.AuditEvent;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.store.Database;

/** The node's {@link Audit}: every node records its own events (files always, the table when writable). */
@Component(service = {Audit.class, HealthCheck.class}, configurationPid = AuditComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = AuditComponent.Config.class)
public class AuditComponent implements Audit, HealthCheck {
    static final String PID = "io.coffer.audit";

    @ObjectClassDefinition(name = "Coffer audit", description = "Audit queue, files and table")
    public @interface Config {
        @AttributeDefinition(description = "Directory of audit.json and audit.log; empty: ${karaf.base}/data/audit")
        String directory() default "";

        @AttributeDefinition(description = "Events the queue holds before callers wait")
        int queue_capacity() default 10_000;

        @AttributeDefinition(description = "How long a caller waits for room in a full queue before a 503 (ms)")
        long queue_wait_ms() default 200;

        @AttributeDefinition(description = "Events per fsync and per database batch at most")
        int batch_max() default 500;

        @AttributeDefinition(description = "Size at which each file rotates (bytes)")
        long file_max_bytes() default 50L * 1024 * 1024;

        @AttributeDefinition(description = "Rotated files kept per file")
        int file_keep() default 10;

        @AttributeDefinition(description = "Also write audit_events when this node's database is writable")
        boolean database() default true;
    }

    /** Absent while the schema is not current; the files still take every event. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Database db;

    private final AuditWriter writer;

    @Activate
    public AuditComponent(Config config) throws IOException {
        Path dir = config.directory().isBlank()
                ? Path.of(System.getProperty("karaf.base", "."), "data", "audit") : Path.of(config.directory());
        boolean useDb = config.database();
        writer = new AuditWriter(dir, config.queue_capacity(), config.queue_wait_ms(), config.batch_max(),
                config.file_max_bytes(), config.file_keep(), () -> {
                    Database d = db;
                    return useDb && d != null ? d.dataSource() : null;
                });
    }

    @Deactivate
    void deactivate() throws IOException, InterruptedException {
        writer.stop();
    }

    @Override
    public void record(AuditEvent event) {
        writer.record(event);
    }

    @Override
    public String name() {
        return "audit";
    }

    @Override
    public ComponentHealth check() {
        return writer.health();
    }
}
