package io.coffer.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import javax.inject.Inject;

import org.apache.karaf.features.BundleInfo;
import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** The follower profile booted alone: read-only, nothing of coffer-write installed. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FollowerIT extends CofferTestSupport {

    @Inject
    BundleContext context;

    @Inject
    FeaturesService features;

    @Configuration
    public Option[] config() {
        return boot(new Node(28543), "follower", 28102, 28299);
    }

    @Test
    public void followerBootsAloneWithoutTheWriteSide() throws Exception {
        HttpClient tls = tlsClient();
        HttpResponse<String> r = eventually("/health 200", () -> unchecked(tls, "https://127.0.0.1:" + apiPort()
                + "/health"), x -> x.statusCode() == 200, Duration.ofSeconds(120));
        assertTrue(r.body(), r.body().contains("\"role\":\"follower\""));
        HttpClient plain = HttpClient.newHttpClient();
        assertEquals(200, get(plain, "http://127.0.0.1:" + healthPort() + "/health/replica").statusCode());
        assertEquals(502, get(plain, "http://127.0.0.1:" + healthPort() + "/health/leader").statusCode());

        assertTrue(features.isInstalled(features.getFeature("coffer-follower")));
        Feature write = features.getFeature("coffer-write");
        assertFalse("coffer-write is installed on a follower", features.isInstalled(write));
        assertFalse(features.isInstalled(features.getFeature("coffer-leader")));
        // Computed from the features: Coffer's bundles that coffer-write (and what it reaches) adds beyond coffer-core.
        // Third-party libraries a write feature shares with other features are not write bundles.
        Set<String> writeOnly = bundlesOf(write, new HashSet<>());
        writeOnly.removeAll(bundlesOf(features.getFeature("coffer-core"), new HashSet<>()));
        writeOnly.removeIf(location -> !location.startsWith("mvn:io.coffer/"));
        assertFalse("the check has write bundles to look for", writeOnly.isEmpty());
        for (Bundle b : context.getBundles()) {
            assertFalse("write bundle installed: " + b.getLocation(), writeOnly.contains(b.getLocation()));
        }
        HttpResponse<String> put = send(tls, "PUT", "https://127.0.0.1:" + apiPort() + "/authn/demo/api_key", null);
        assertEquals(405, put.statusCode());
        assertTrue(put.body(), put.body().contains("read-only"));
        assertEquals("authenticate is a read: it passes the gate (401 for an unknown account)", 401,
                send(tls, "POST", "https://127.0.0.1:" + apiPort() + "/authn/demo/admin/authenticate", "x").statusCode());
        assertEquals("no Accounts service on a follower", null,
                context.getServiceReference(io.coffer.api.authn.Accounts.class));
    }

    /**
     * What promotion will do: install the write side into a running node, then take it away again — the health
     * endpoint keeps answering and no core bundle is stopped or refreshed on the way.
     */
    @Test
    public void theWriteSideInstallsAndUninstallsWithoutRefreshingTheCore() throws Exception {
        HttpClient plain = HttpClient.newHttpClient();
        String health = "http://127.0.0.1:" + healthPort() + "/health";
        eventually("/health 200", () -> unchecked(plain, health), x -> x.statusCode() == 200, Duration.ofSeconds(120));
        java.util.List<String> stopped = new java.util.concurrent.CopyOnWriteArrayList<>();
        // The core: every bundle running before the write side arrives. Only those must never stop.
        Set<Long> core = new HashSet<>();
        for (org.osgi.framework.Bundle b : context.getBundles()) {
            core.add(b.getBundleId());
        }
        org.osgi.framework.SynchronousBundleListener watch = e -> {
            if ((e.getType() == org.osgi.framework.BundleEvent.STOPPED
                    || e.getType() == org.osgi.framework.BundleEvent.UNRESOLVED)
                    && core.contains(e.getBundle().getBundleId())) {
                stopped.add(e.getBundle().getSymbolicName());
            }
        };
        context.addBundleListener(watch);
        java.util.EnumSet<FeaturesService.Option> noRefresh = java.util.EnumSet.of(
                FeaturesService.Option.NoAutoRefreshBundles, FeaturesService.Option.NoAutoRefreshManagedBundles);
        try {
            features.installFeature("coffer-write", noRefresh);
            assertTrue(features.isInstalled(features.getFeature("coffer-write")));
            eventually("the Accounts service appears", () -> context.getServiceReference(
                    io.coffer.api.authn.Accounts.class), r -> r != null, Duration.ofSeconds(30));
            assertEquals(200, get(plain, health).statusCode());
            features.uninstallFeature("coffer-write", noRefresh);
            assertFalse(features.isInstalled(features.getFeature("coffer-write")));
            eventually("the Accounts service is gone", () -> context.getServiceReference(
                    io.coffer.api.authn.Accounts.class), r -> r == null, Duration.ofSeconds(30));
            assertEquals(200, get(plain, health).statusCode());
        } finally {
            context.removeBundleListener(watch);
        }
        assertEquals("core bundles stopped or refreshed", java.util.List.of(), stopped);
    }

    private Set<String> bundlesOf(Feature f, Set<String> seenFeatures) throws Exception {
        Set<String> out = new HashSet<>();
        if (f == null || !seenFeatures.add(f.getName())) {
            return out;
        }
        for (BundleInfo b : f.getBundles()) {
            out.add(b.getLocation());
        }
        for (org.apache.karaf.features.Dependency d : f.getDependencies()) {
            Feature dep = features.getFeature(d.getName());
            if (dep != null) {
                out.addAll(bundlesOf(dep, seenFeatures));
            }
        }
        return out;
    }
}
