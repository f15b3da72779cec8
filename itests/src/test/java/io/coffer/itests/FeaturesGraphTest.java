package io.coffer.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import org.junit.BeforeClass;
import org.junit.Test;

/** Checks computed from the built features.xml, so they bite as soon as a write bundle exists. */
public class FeaturesGraphTest {
    private static FeatureGraph graph;

    @BeforeClass
    public static void load() throws Exception {
        graph = FeatureGraph.load(new File(System.getProperty("coffer.features", "../features/target/feature/feature.xml")));
    }

    @Test
    public void everyRoleHasAFeatureAndAllRunTheCore() {
        for (String role : new String[] {"leader", "standby", "follower", "dr-standby"}) {
            assertTrue(role, graph.features.containsKey("coffer-" + role));
            assertTrue(role, graph.closure("coffer-" + role).contains("coffer-core"));
        }
        assertTrue(graph.closure("coffer-leader").contains("coffer-write"));
    }

    @Test
    public void onlyTheLeaderAndStandbysTakePartInTheElection() {
        for (String role : new String[] {"coffer-leader", "coffer-standby"}) {
            assertTrue(role, graph.closure(role).contains("coffer-election"));
        }
        for (String role : new String[] {"coffer-follower", "coffer-dr-standby", "coffer-core", "coffer-write"}) {
            assertFalse(role + " reaches coffer-election", graph.closure(role).contains("coffer-election"));
        }
    }

    @Test
    public void followerAndStandbysNeverReachTheWriteSide() {
        Set<String> writeBundles = graph.writeOnlyBundles();
        assertTrue("coffer-write has bundles of its own", writeBundles.stream().anyMatch(b -> b.contains("accounts")));
        for (String role : new String[] {"coffer-follower", "coffer-standby", "coffer-dr-standby"}) {
            assertFalse(role + " reaches coffer-write", graph.closure(role).contains("coffer-write"));
            Set<String> overlap = new HashSet<>(graph.bundleClosure(role));
            overlap.retainAll(writeBundles);
            assertEquals(role + " installs write bundles", Set.of(), overlap);
        }
    }

    @Test
    public void theGraphCheckWouldCatchAWriteBundleInTheFollower() {
        // Prove the check can fail: graft a write bundle onto the follower in a copy of the graph.
        FeatureGraph g = new FeatureGraph();
        g.features.putAll(graph.features);
        g.bundles.putAll(graph.bundles);
        g.bundles.put("coffer-write", java.util.List.of("mvn:io.coffer/io.coffer.policy/1"));
        g.features.put("coffer-follower", java.util.List.of("coffer-core", "coffer-leader"));
        Set<String> overlap = new HashSet<>(g.bundleClosure("coffer-follower"));
        overlap.retainAll(g.writeOnlyBundles());
        assertTrue(overlap.contains("mvn:io.coffer/io.coffer.policy/1"));
        assertEquals(g.writeOnlyBundles(), overlap);
    }

    @Test
    public void everyCofferBundleIsInTheDistributionsSystemFolder() {
        Path system = Path.of("../karaf-assembly/target/assembly/system");
        for (String f : graph.features.keySet()) {
            for (String url : graph.bundles.get(f)) {
                String[] p = url.substring("mvn:".length()).split("/");
                Path jar = system.resolve(p[0].replace('.', '/')).resolve(p[1]).resolve(p[2])
                        .resolve(p[1] + "-" + p[2] + ".jar");
                assertTrue(url + " missing from system/", Files.isRegularFile(jar));
            }
        }
    }
}
