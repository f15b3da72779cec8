package io.coffer.node.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.lang.annotation.Annotation;
import java.util.Map;

import org.junit.Test;

import io.coffer.api.NodeRole;
import io.coffer.api.health.ComponentHealth;
import io.coffer.api.health.HealthCheck;
import io.coffer.api.health.HealthReport;

public class HealthAggregatorTest {

    static NodeComponent node(String name, String role) {
        return new NodeComponent(new NodeComponent.Config() {
            public Class<? extends Annotation> annotationType() { return NodeComponent.Config.class; }
            public String name() { return name; }
            public String role() { return role; }
        });
    }

    static HealthAggregator.Config required(String... names) {
        return new HealthAggregator.Config() {
            public Class<? extends Annotation> annotationType() { return HealthAggregator.Config.class; }
            public String[] required() { return names; }
        };
    }

    static HealthCheck check(String name, ComponentHealth result) {
        return new HealthCheck() {
            public String name() { return name; }
            public ComponentHealth check() { return result; }
        };
    }

    @Test
    public void missingRequiredCheckMakesNodeUnhealthy() {
        HealthAggregator agg = new HealthAggregator(node("n1", "leader"), required("database"));
        HealthReport r = agg.report();
        assertFalse(r.ok());
        assertEquals(NodeRole.LEADER, r.role());
        assertEquals(false, r.components().get("database").ok());
        agg.addCheck(check("database", ComponentHealth.ok(Map.of("version", "15"))));
        assertTrue(agg.report().ok());
    }

    @Test
    public void oneFailingOrThrowingCheckMakesNodeUnhealthy() {
        HealthAggregator agg = new HealthAggregator(node("n1", "follower"), required());
        agg.addCheck(check("a", ComponentHealth.ok(Map.of())));
        assertTrue(agg.report().ok());
        HealthCheck boom = new HealthCheck() {
            public String name() { return "b"; }
            public ComponentHealth check() { throw new IllegalStateException("down"); }
        };
        agg.addCheck(boom);
        HealthReport r = agg.report();
        assertFalse(r.ok());
        assertEquals("down", r.components().get("b").details().get("error"));
        agg.removeCheck(boom);
        assertTrue(agg.report().ok());
        assertEquals("follower", agg.report().toMap().get("role"));
    }

    @Test(expected = IllegalArgumentException.class)
    public void unknownRoleIsRejected() {
        node("n1", "master");
    }

    @Test(expected = IllegalArgumentException.class)
    public void hostileNodeNameIsRejected() {
        node("n1/../x", "leader");
    }
}
