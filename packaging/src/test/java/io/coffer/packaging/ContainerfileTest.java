package io.coffer.packaging;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.BeforeClass;
import org.junit.Test;

/** The Containerfile's text: base, ports, user, entrypoint, health check, and the environment the entrypoint reads. */
public class ContainerfileTest {
    /** The module's folder (packaging/); the repository is its parent. */
    static final Path MODULE = Paths.get(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    static final Path REPO = MODULE.getParent();
    static final Set<Integer> PORTS = Set.of(8443, 8444, 5433, 1999);

    static Containerfile file;
    static String entrypointScript;

    @BeforeClass
    public static void read() throws Exception {
        file = Containerfile.read(MODULE.resolve("container/Containerfile"));
        entrypointScript = Files.readString(MODULE.resolve("container/entrypoint.sh"), StandardCharsets.UTF_8);
    }

    @Test
    public void debianBookwormBase() {
        assertTrue(file.all("FROM").toString(), file.last("FROM").startsWith("debian:bookworm"));
    }

    @Test
    public void installsPostgres15AndJava17FromDebian() {
        String run = String.join(" ", file.all("RUN"));
        assertTrue(run, run.contains("postgresql-15"));
        assertTrue(run, run.matches(".*openjdk-17-(jre|jdk)-headless.*"));
        assertTrue("tini runs as PID 1", run.contains(" tini "));
    }

    @Test
    public void exposesTheApiHealthPostgresAndAuditPorts() {
        assertEquals(PORTS, file.exposed());
    }

    @Test
    public void runsAsANumericNonRootUser() {
        String user = file.last("USER");
        assertNotNull("a USER instruction", user);
        String uid = user.split(":")[0];
        // Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
        assertTrue(user, uid.matches("[0-9]+"));
        assertFalse("not root", Integer.parseInt(uid) == 0);
        assertEquals("the manifests' runAsUser", Manifests.IMAGE_UID, Integer.parseInt(uid));
    }

    @Test
    public void entrypointIsTiniThenTheScriptThisRepositoryHolds() {
        List<String> ep = file.entrypoint();
        assertEquals("exec form: tini, --, the script: " + ep, 3, ep.size());
        assertEquals("/usr/bin/tini", ep.get(0));
        String script = ep.get(2);
        // A COPY puts a file of this repository at that path: find its source, which must exist and be executable.
        String source = null;
        for (Map.Entry<String, List<String>> c : file.copies().entrySet()) {
            if (c.getKey().equals(script)) {
                source = c.getValue().get(0);
            }
        }
        assertNotNull("a COPY to " + script + " in " + file.copies(), source);
        Path src = REPO.resolve(source);
        assertTrue(src + " exists", Files.isRegularFile(src));
        assertTrue(src + " is executable", Files.isExecutable(src));
        assertTrue(src.endsWith("packaging/container/entrypoint.sh"));
    }

    @Test
    public void theLauncherIsInTheImageWhereTheEntrypointLooksForIt() {
        Map<String, String> env = file.env();
        String home = env.get("COFFER_HOME");
        assertNotNull(home);
        assertEquals(List.of("coffer"), file.copies().get(home + "/coffer"));
        assertTrue(Files.isExecutable(REPO.resolve("coffer")));
        assertTrue("the entrypoint runs $COFFER_HOME/coffer", entrypointScript.contains("LAUNCHER=\"$COFFER_HOME/coffer\""));
        // The distribution: where COFFER_DIST points, copied from what karaf-assembly builds.
        String dist = env.get("COFFER_DIST");
        String folder = dist.substring(0, dist.lastIndexOf('/') + 1);
        assertEquals(List.of("karaf-assembly/target/coffer-karaf-assembly-*.tar.gz"), file.copies().get(folder));
    }

    @Test
    public void healthCheckAsksForLivenessOnTheHealthPort() {
        String hc = file.last("HEALTHCHECK");
        assertNotNull(hc);
        assertTrue(hc, hc.contains("/health/live"));
        assertTrue(hc, hc.contains("8444"));
    }

    @Test
    public void theNodeLivesOnTheVolumeAndListensBeyondLoopback() {
        Map<String, String> env = file.env();
        String volume = file.last("VOLUME");
        assertNotNull(volume);
        assertTrue(env.get("COFFER_DATA_DIR") + " under " + volume, env.get("COFFER_DATA_DIR").startsWith(volume + "/"));
        assertEquals("0.0.0.0", env.get("COFFER_LISTEN"));
        assertEquals("0", env.get("COFFER_PORT_OFFSET"));
    }

    @Test
    public void everyCofferVariableTheImageSetsIsOneTheEntrypointReads() {
        for (String k : file.env().keySet()) {
            if (k.startsWith("COFFER_") && !k.equals("COFFER_DIST")) {
                assertTrue(k + " is read by entrypoint.sh", entrypointScript.contains(k));
            }
        }
        // COFFER_DIST is the launcher's.
        assertTrue(readLauncher().contains("COFFER_DIST"));
    }

    private static String readLauncher() {
        try {
            return Files.readString(REPO.resolve("coffer"), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
