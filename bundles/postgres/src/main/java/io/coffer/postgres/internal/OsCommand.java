package io.coffer.postgres.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs PostgreSQL's tools. When the node runs as root they run as the unprivileged database OS user through
 * {@code runuser}, because PostgreSQL refuses root and files it writes must belong to that user.
 * Arguments never carry a password (passwords travel in files or over JDBC), so logging argv is safe.
 */
final class OsCommand {
    /** Output and exit status of a finished command. */
    static final class Result {
        final int exit;
        final String output;

        Result(int exit, String output) {
            this.exit = exit;
            this.output = output;
        }

        boolean ok() {
            return exit == 0;
        }
    }

    private final String runAs;

    /** @param runAs the OS user to run tools as, or {@code null} to run as the node's own user */
    OsCommand(String runAs) {
        this.runAs = runAs;
    }

    static boolean nodeRunsAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    List<String> argv(List<String> command) {
        List<String> argv = new ArrayList<>();
        if (runAs != null) {
            argv.add("runuser");
            argv.add("-u");
            argv.add(runAs);
            argv.add("--");
        }
        argv.addAll(command);
        return argv;
    }

    Result run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv(command)).redirectErrorStream(true);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        // Keep the environment small and predictable: no PG* variables of the operator leak in.
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("LC_ALL", "C.UTF-8");
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out), "coffer-pg-cmd-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            reader.join(1000);
            return new Result(-1, "timed out after " + timeout.getSeconds() + "s: " + out.toString());
        }
        // pg_ctl start leaves the postmaster holding our pipe only if it wasn't redirected; -l redirects it.
        reader.join(5000);
        return new Result(p.exitValue(), out.toString().trim());
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[4096];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    if (out.size() < 64 * 1024) {
                        out.write(buf, 0, n);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended; what was read is what we report
        }
    }
}
