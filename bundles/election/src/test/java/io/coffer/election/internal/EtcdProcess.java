package io.coffer.election.internal;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * A real, single-member etcd for the tests: plain http on a free loopback port, its data in a temporary folder,
 * killed with SIGKILL when asked (as a crash would). Tests are skipped, with a message, where no etcd binary exists.
 */
final class EtcdProcess implements AutoCloseable {
    private final File dir;
    private final int clientPort;
    private final int peerPort;
    private Process process;

    EtcdProcess() throws IOException {
        String bin = binary();
        Assume.assumeTrue("no etcd binary (apt-get install etcd-server): etcd tests skipped", bin != null);
        dir = Files.createTempDirectory("coffer-etcd-test").toFile();
        clientPort = freePort();
        peerPort = freePort();
    }

    private static String binary() {
        for (String p : new String[] {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
            if (new File(p).canExecute()) {
                return p;
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    EtcdProcess start() throws IOException, InterruptedException {
        String peer = "http://127.0.0.1:" + peerPort;
        process = new ProcessBuilder(binary(), "--name", "t", "--data-dir", new File(dir, "data").getPath(),
                "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "t=" + peer, "--pre-vote", "--logger", "zap",
                "--log-outputs", new File(dir, "etcd.log").getPath())
                .redirectErrorStream(true).redirectOutput(new File(dir, "console.log")).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", clientPort)) {
                return this;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("etcd did not listen within 20 s");
    }

    /** SIGKILL, as a crash. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    @Override
    public void close() throws Exception {
        kill();
        try (var files = Files.walk(dir.toPath())) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
