package io.coffer.packaging;

import static io.coffer.packaging.Manifests.at;
import static io.coffer.packaging.Manifests.containers;
import static io.coffer.packaging.Manifests.list;
import static io.coffer.packaging.Manifests.map;
import static io.coffer.packaging.Manifests.podSpec;
import static io.coffer.packaging.Manifests.str;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The Kubernetes manifests, parsed: probes, per-pod enrolment (no Secret shared by the pods), non-root pods, Services
 * that select the pods, ports and image consistent with the Containerfile.
 */
public class ManifestsTest {
    static Manifests k8s;
    static Containerfile image;

    @BeforeClass
    public static void load() throws Exception {
        k8s = Manifests.load(ContainerfileTest.MODULE.resolve("k8s"));
        image = Containerfile.read(ContainerfileTest.MODULE.resolve("container/Containerfile"));
    }

    static Map<String, Object> followers() {
        return k8s.named("StatefulSet", "coffer-follower");
    }

    static Map<String, Object> leader() {
        return k8s.named("StatefulSet", "coffer-leader");
    }

    static List<Map<String, Object>> workloads() {
        List<Map<String, Object>> w = new ArrayList<>(k8s.ofKind("StatefulSet"));
        w.addAll(k8s.ofKind("Deployment"));
        return w;
    }

    static Map<String, Object> coffer(Map<String, Object> workload) {
        for (Object c : list(podSpec(workload).get("containers"))) {
            if ("coffer".equals(map(c).get("name"))) {
                return map(c);
            }
        }
        throw new AssertionError("no container coffer in " + str(workload, "metadata", "name"));
    }

    static String env(Map<String, Object> container, String name) {
        for (Object e : list(container.get("env"))) {
            if (name.equals(map(e).get("name"))) {
                Object v = map(e).get("value");
                return v != null ? v.toString() : "valueFrom:" + str(e, "valueFrom", "fieldRef", "fieldPath");
            }
        }
        return null;
    }

    static void assertProbe(Map<String, Object> c, String probe, String path) {
        assertEquals(probe, path, str(c, probe, "httpGet", "path"));
        // The health port, plain HTTP: by number or by the name of a port of the container.
        Object port = at(c, probe, "httpGet", "port");
        int n = port instanceof Integer ? (Integer) port : containerPort(c, port.toString());
        assertEquals(probe + " on the health port", 8444, n);
        assertTrue(probe + "'s port is exposed by the image", image.exposed().contains(n));
        String scheme = str(c, probe, "httpGet", "scheme");
        assertTrue(probe + " over plain HTTP", scheme == null || scheme.equals("HTTP"));
    }

    static int containerPort(Map<String, Object> c, String name) {
        for (Object p : list(c.get("ports"))) {
            if (name.equals(map(p).get("name"))) {
                return (Integer) map(p).get("containerPort");
            }
        }
        throw new AssertionError("no port named " + name + " in container " + c.get("name"));
    }

    @Test
    public void everyFileParsesAndTheKustomizationListsTheManifests() {
        assertTrue(k8s.files.size() >= 3);
        Map<String, Object> kust = k8s.ofKind("Kustomization").get(0);
        Set<String> listed = new HashSet<>();
        for (Object r : list(kust.get("resources"))) {
            listed.add(r.toString());
        }
        for (java.nio.file.Path f : k8s.files) {
            String n = f.getFileName().toString();
            if (!n.equals("kustomization.yaml")) {
                assertTrue(n + " is in kustomization.yaml", listed.contains(n));
            }
        }
    }

    @Test
    public void followersAreReadyOnReplicaHealthAndLiveOnLive() {
        Map<String, Object> c = coffer(followers());
        assertEquals("follower", env(c, "COFFER_ROLE"));
        assertProbe(c, "readinessProbe", "/health/replica");
        assertProbe(c, "livenessProbe", "/health/live");
    }

    @Test
    public void theLeaderIsReadyOnLeaderHealth() {
        Map<String, Object> c = coffer(leader());
        assertEquals("leader", env(c, "COFFER_ROLE"));
        assertEquals("one Leader", 1, at(leader(), "spec", "replicas"));
        assertProbe(c, "readinessProbe", "/health/leader");
        assertProbe(c, "livenessProbe", "/health/live");
    }

    @Test
    public void noSecretIsSharedByThePods() {
        for (Map<String, Object> w : workloads()) {
            Map<String, Object> spec = podSpec(w);
            String name = str(w, "metadata", "name");
            for (Object v : list(spec.get("volumes"))) {
                assertNull(name + ": no Secret volume", map(v).get("secret"));
                for (Object s : list(at(v, "projected", "sources"))) {
                    assertNull(name + ": no projected Secret", map(s).get("secret"));
                }
            }
            for (Map<String, Object> c : containers(spec)) {
                for (Object e : list(c.get("envFrom"))) {
                    assertNull(name + ": no envFrom Secret", map(e).get("secretRef"));
                }
                for (Object e : list(c.get("env"))) {
                    assertNull(name + ": no env from a Secret", at(e, "valueFrom", "secretKeyRef"));
                }
            }
        }
    }

    @Test
    public void eachFollowerReadsTheSeedSecretNamedAfterItsOwnPod() {
        Map<String, Object> c = coffer(followers());
        assertEquals("POD_NAME from the pod's own name", "valueFrom:metadata.name", env(c, "POD_NAME"));
        String secret = env(c, "COFFER_SEED_SECRET");
        assertNotNull(secret);
        assertTrue(secret + " depends on the pod's name", secret.contains("$(POD_NAME)"));
        // POD_NAME is defined before it is used ($(VAR) expands only earlier variables).
        List<String> order = new ArrayList<>();
        for (Object e : list(c.get("env"))) {
            order.add(map(e).get("name").toString());
        }
        assertTrue(order.indexOf("POD_NAME") < order.indexOf("COFFER_SEED_SECRET"));
        // The service account reads and deletes exactly the pods' seed Secrets: by name, one per pod, never list/watch.
        String sa = str(podSpec(followers()), "serviceAccountName");
        int replicas = (Integer) at(followers(), "spec", "replicas");
        Set<String> allowed = secretNamesGrantedTo(sa);
        for (int i = 0; i < replicas; i++) {
            String pod = str(followers(), "metadata", "name") + "-" + i;
            assertTrue(pod + "'s Secret is granted: " + allowed, allowed.contains(secret.replace("$(POD_NAME)", pod)));
        }
        for (String s : allowed) {
            assertTrue(s + ": only seed Secrets", s.startsWith(secret.replace("$(POD_NAME)", "")));
        }
    }

    /** Names of the Secrets the Roles bound to the service account grant; fails on any grant not limited by name. */
    static Set<String> secretNamesGrantedTo(String serviceAccount) {
        Set<String> roles = new HashSet<>();
        for (Map<String, Object> b : k8s.ofKind("RoleBinding")) {
            for (Object s : list(b.get("subjects"))) {
                if ("ServiceAccount".equals(map(s).get("kind")) && serviceAccount.equals(map(s).get("name"))) {
                    assertEquals("Role", str(b, "roleRef", "kind"));
                    roles.add(str(b, "roleRef", "name"));
                }
            }
        }
        assertFalse("a RoleBinding for " + serviceAccount, roles.isEmpty());
        assertTrue("no ClusterRoleBinding", k8s.ofKind("ClusterRoleBinding").isEmpty());
        Set<String> names = new HashSet<>();
        for (String r : roles) {
            for (Object rule : list(k8s.named("Role", r).get("rules"))) {
                List<Object> resources = list(map(rule).get("resources"));
                if (resources.contains("secrets") || resources.contains("*")) {
                    List<Object> verbs = list(map(rule).get("verbs"));
                    assertTrue("get/delete only: " + verbs, Set.of("get", "delete").containsAll(verbs));
                    List<Object> rn = list(map(rule).get("resourceNames"));
                    assertFalse("Secrets granted by name only", rn.isEmpty());
                    rn.forEach(n -> names.add(n.toString()));
                }
            }
        }
        return names;
    }

    @Test
    public void theOperatorStepNamesSecretsAsThePodsReadThem() throws Exception {
        String script = Files.readString(ContainerfileTest.MODULE.resolve("k8s/enrol-followers.sh"), StandardCharsets.UTF_8);
        String secret = env(coffer(followers()), "COFFER_SEED_SECRET");
        // coffer-seed-$(POD_NAME), the pod being "$STS-$i" with STS the StatefulSet's name.
        assertTrue(script.contains("secret=\"" + secret.replace("$(POD_NAME)", "$STS-$i") + "\""));
        assertTrue(script.contains("STS=" + str(followers(), "metadata", "name")));
        assertTrue("no Secret on a command line", script.contains("create -f -"));
    }

    @Test
    public void podsRunAsTheImagesNonRootUserWithoutPrivileges() {
        for (Map<String, Object> w : workloads()) {
            Map<String, Object> sc = map(podSpec(w).get("securityContext"));
            String name = str(w, "metadata", "name");
            assertEquals(name, Boolean.TRUE, sc.get("runAsNonRoot"));
            assertEquals(name, Manifests.IMAGE_UID, sc.get("runAsUser"));
            assertEquals(name, Manifests.IMAGE_UID, sc.get("fsGroup"));
            for (Map<String, Object> c : containers(podSpec(w))) {
                assertEquals(name, Boolean.FALSE, at(c, "securityContext", "allowPrivilegeEscalation"));
                assertEquals(name, List.of("ALL"), at(c, "securityContext", "capabilities", "drop"));
                assertNotNull(name + " requests cpu", at(c, "resources", "requests", "cpu"));
                assertNotNull(name + " requests memory", at(c, "resources", "requests", "memory"));
            }
        }
    }

    @Test
    public void servicesSelectThePodsAndTargetTheirPorts() {
        for (Map<String, Object> s : k8s.ofKind("Service")) {
            Map<String, Object> selector = map(at(s, "spec", "selector"));
            Map<String, Object> target = null;
            for (Map<String, Object> w : workloads()) {
                Map<String, Object> labels = map(at(w, "spec", "template", "metadata", "labels"));
                if (labels.entrySet().containsAll(selector.entrySet())) {
                    assertNull(str(s, "metadata", "name") + " selects one workload's pods", target);
                    target = w;
                    assertEquals("the StatefulSet's selector matches its pods", map(at(w, "spec", "selector", "matchLabels")),
                            selector);
                }
            }
            assertNotNull(str(s, "metadata", "name") + " selects pods", target);
            Map<String, Object> c = coffer(target);
            for (Object p : list(at(s, "spec", "ports"))) {
                Object tp = map(p).get("targetPort");
                int port = tp instanceof Integer ? (Integer) tp : containerPort(c, tp.toString());
                assertTrue(port + " exposed by the image", image.exposed().contains(port));
            }
        }
        Map<String, Object> api = k8s.named("Service", "coffer-follower");
        assertEquals(8443, containerPort(coffer(followers()), str(list(at(api, "spec", "ports")).get(0), "targetPort")));
        // Each StatefulSet's governing Service is headless.
        for (Map<String, Object> w : k8s.ofKind("StatefulSet")) {
            Map<String, Object> hl = k8s.named("Service", str(w, "spec", "serviceName"));
            assertEquals("None", str(hl, "spec", "clusterIP"));
        }
    }

    @Test
    public void containerPortsAndImageMatchTheContainerfile() {
        Set<String> images = new HashSet<>();
        for (Map<String, Object> w : workloads()) {
            Map<String, Object> c = coffer(w);
            images.add(c.get("image").toString());
            for (Object p : list(c.get("ports"))) {
                assertTrue(p + " exposed by the image", image.exposed().contains((Integer) map(p).get("containerPort")));
            }
            // The data volume is mounted where the image keeps the node.
            String home = image.env().get("HOME");
            boolean mounted = false;
            for (Object m : list(c.get("volumeMounts"))) {
                mounted |= home.equals(map(m).get("mountPath"));
            }
            assertTrue(str(w, "metadata", "name") + " mounts its volume at " + home, mounted);
        }
        assertEquals("one image for every node: " + images, 1, images.size());
        assertTrue(images.iterator().next().matches("([a-z0-9.-]+(:[0-9]+)?/)?([a-z0-9._-]+/)*coffer:[A-Za-z0-9._-]+"));
        // The Leader's PostgreSQL is published through the relay at the pod's address, reached through its Service.
        Map<String, Object> lc = coffer(leader());
        assertEquals("$(POD_IP)", env(lc, "COFFER_PG_PUBLISH"));
        assertEquals("valueFrom:status.podIP", env(lc, "POD_IP"));
        assertEquals(5433, containerPort(lc, "postgres"));
    }
}
