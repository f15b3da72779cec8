package io.coffer.node.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.NodeIdentity;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.health.HealthReport;
import io.coffer.api.health.HealthService;

/**
 * Runs every registered {@link HealthCheck}. A check that is required but not (yet) registered makes the node
 * unhealthy: a node whose database bundle never came up must not look healthy to a load balancer.
 */
@Component(service = HealthService.class, configurationPid = "io.coffer.health",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = HealthAggregator.Config.class)
public class HealthAggregator implements HealthService {

    @ObjectClassDefinition(name = "Coffer health", description = "What /health requires")
    public @interface Config {
        @AttributeDefinition(description = "Checks that must be registered and ok for the node to be healthy")
        String[] required() default {"database", "schema", "keys"};
    }

    private final NodeIdentity node;
    private final List<String> required;
    private final Map<String, HealthCheck> checks = new ConcurrentSkipListMap<>();

    @Activate
    public HealthAggregator(@Reference NodeIdentity node, Config config) {
        this.node = node;
        this.required = Arrays.stream(config.required()).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toList());
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCheck(HealthCheck check) {
        checks.put(check.name(), check);
    }

    void removeCheck(HealthCheck check) {
        checks.remove(check.name(), check);
    }

    @Override
    public HealthReport report() {
        Map<String, ComponentHealth> results = new LinkedHashMap<>();
        for (HealthCheck c : checks.values()) {
            results.put(c.name(), safeCheck(c));
        }
        Set<String> missing = new TreeSet<>(required);
        missing.removeAll(results.keySet());
        for (String m : missing) {
            results.put(m, ComponentHealth.failed(Map.of("error", "not started")));
        }
        long uptime = Duration.between(node.startedAt(), Instant.now()).getSeconds();
        return new HealthReport(node.name(), node.role(), uptime, results, missing.isEmpty());
    }

    private static ComponentHealth safeCheck(HealthCheck c) {
        try {
            ComponentHealth h = c.check();
            return h != null ? h : ComponentHealth.failed(Map.of("error", "no result"));
        } catch (RuntimeException e) {
            // A buggy check must not take /health down with it; its message is shown, not its stack.
            return ComponentHealth.failed(Map.of("error", String.valueOf(e.getMessage())));
        }
    }
}
