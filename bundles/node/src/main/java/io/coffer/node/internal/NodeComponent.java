package io.coffer.node.internal;

import java.time.Instant;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.NodeIdentity;
import io.coffer.api.NodeRole;

/**
 * The node's identity from {@code etc/io.coffer.node.cfg}. A role change (promotion) applies in place: the service
 * stays registered, so no dependant restarts and the API keeps answering; each reads {@link #role()} per use.
 */
@Component(service = NodeIdentity.class, configurationPid = NodeComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = NodeComponent.Config.class)
public class NodeComponent implements NodeIdentity {
    public static final String PID = "io.coffer.node";

    @ObjectClassDefinition(name = "Coffer node", description = "Identity and role of this Coffer node")
    public @interface Config {
        @AttributeDefinition(description = "Stable node name (letters, digits, '-', '_'), unique in the cluster")
        String name() default "n1";

        @AttributeDefinition(description = "leader, standby, follower or dr-standby")
        String role() default "leader";
    }

    private volatile String name;
    private volatile NodeRole role;
    private final Instant startedAt = Instant.now();

    @Activate
    public NodeComponent(Config config) {
        modified(config);
    }

    @Modified
    void modified(Config config) {
        if (!config.name().matches("[A-Za-z0-9_-]{1,63}")) {
            throw new IllegalArgumentException("io.coffer.node: name '" + config.name()
                    + "' must be 1-63 letters, digits, '-' or '_'");
        }
        this.name = config.name();
        this.role = NodeRole.parse(config.role());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public NodeRole role() {
        return role;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }
}
