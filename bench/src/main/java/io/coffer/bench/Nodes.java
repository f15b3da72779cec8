package io.coffer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts and stops nodes through the launcher, as a user would, and reads back its KEY=VALUE lines. */
final class Nodes {
    private final Path root;
    /** Extra JVM options for the nodes started (a JFR recording with --jfr), or null. */
    private final String javaOpts;

    Nodes(Path root, String javaOpts) {
        this.root = root;
        this.javaOpts = javaOpts;
    }

    Map<String, String> launch(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(root.resolve("coffer").toString());
        cmd.addAll(List.of(args));
        String out = run(cmd, 900, javaOpts);
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    void quietly(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(root.resolve("coffer").toString());
        cmd.addAll(List.of(args));
        try {
            run(cmd, 300);
        } catch (RuntimeException e) {
            System.err.println("# " + e.getMessage());
        }
    }

    static String run(List<String> cmd, int timeoutSeconds) {
        return run(cmd, timeoutSeconds, null);
    }

    static String run(List<String> cmd, int timeoutSeconds, String javaOpts) {
        try {
            Path out = Files.createTempFile("coffer-bench", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                        .redirectError(ProcessBuilder.Redirect.INHERIT);
                if (javaOpts != null) {
                    pb.environment().merge("COFFER_JAVA_OPTS", javaOpts, (a, b) -> a + " " + b);
                }
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", cmd) + ": no answer in " + timeoutSeconds + " s");
                }
                String text = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", cmd) + " failed (" + p.exitValue() + ")");
                }
                return text;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Resident set size of a process in MiB, from /proc. */
    static double rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("no process " + pid, e);
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
