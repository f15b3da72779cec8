package io.coffer.itests;

import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;
import java.io.FileInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.Assert;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption;

/**
 * Boots the real Coffer distribution in Pax Exam with one role. Everything lives on loopback on uncommon ports,
 * PostgreSQL under /tmp (reachable by the postgres OS user when the tests run as root).
 */
public abstract class CofferTestSupport {
    static final String BOOT = "wrap,shell,feature,jaas,ssh,management,bundle,config,diagnostic,log,package,"
            + "service,system,scr,";

    /** Ports and folders of one container; a base offset per test class keeps classes apart. */
    static final class Node {
        final int api;
        final int health;
        final int pg;
        final Path work;

        Node(int base) {
            api = base;
            health = base + 1;
            pg = base + 2;
            try {
                work = Files.createTempDirectory(Paths.get("/tmp"), "coffer-itest-");
                Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
                Path tls = Files.createDirectories(work.resolve("tls"));
                Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
                        "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1",
                        "-dname", "CN=itest", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
                        "-storetype", "PKCS12", "-keystore", tls.resolve("node.p12").toString(),
                        "-storepass", "itest-pass").inheritIO().start();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("keytool failed");
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static Option[] boot(Node n, String role, int sshPort, int rmiBase) {
        String m2 = System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository");
        String web = "etc/org.ops4j.pax.web.cfg";
        String pg = "etc/io.coffer.postgres.cfg";
        return new Option[] {
            karafDistributionConfiguration()
                .frameworkUrl(new File(System.getProperty("coffer.distribution")).toURI().toString())
                .karafVersion("4.4.10").name("Coffer").unpackDirectory(new File("target/exam"))
                .useDeployFolder(false),
            keepRuntimeFolder(),
            configureConsole().ignoreLocalConsole(),
            logLevel(LogLevelOption.LogLevel.INFO),
            // Pax Exam's own bundles come from the local Maven repository; Coffer's come from system/.
            editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.defaultRepositories",
                    "file:${karaf.home}/${karaf.default.repository}@id=system.repository@snapshots,file:" + m2
                            + "@id=local@snapshots"),
            editConfigurationFilePut("etc/org.apache.karaf.features.cfg", "featuresBoot", BOOT + "coffer-" + role),
            editConfigurationFilePut("etc/io.coffer.node.cfg", "role", role),
            editConfigurationFilePut("etc/io.coffer.node.cfg", "name", "it-" + role),
            editConfigurationFilePut("etc/io.coffer.rest.cfg", "health.port", Integer.toString(n.health)),
            editConfigurationFilePut(pg, "port", Integer.toString(n.pg)),
            editConfigurationFilePut(pg, "root.dir", n.work.resolve("pg").toString()),
            editConfigurationFilePut(pg, "secrets.dir", n.work.resolve("secrets").toString()),
            editConfigurationFilePut(web, "org.osgi.service.http.port.secure", Integer.toString(n.api)),
            editConfigurationFilePut(web, "org.ops4j.pax.web.ssl.keystore", n.work.resolve("tls/node.p12").toString()),
            editConfigurationFilePut(web, "org.ops4j.pax.web.ssl.keystore.password", "itest-pass"),
            editConfigurationFilePut(web, "org.ops4j.pax.web.ssl.key.password", "itest-pass"),
            editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", Integer.toString(sshPort)),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", Integer.toString(rmiBase)),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort", Integer.toString(rmiBase + 1)),
            systemProperty("coffer.itest.api").value(Integer.toString(n.api)),
            systemProperty("coffer.itest.health").value(Integer.toString(n.health)),
            systemProperty("coffer.itest.keystore").value(n.work.resolve("tls/node.p12").toString()),
        };
    }

    // ------------------------------------------------------------------------------------------ in-container helpers
    static int apiPort() {
        return Integer.getInteger("coffer.itest.api");
    }

    static int healthPort() {
        return Integer.getInteger("coffer.itest.health");
    }

    static HttpClient tlsClient() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(System.getProperty("coffer.itest.keystore"))) {
            ks.load(in, "itest-pass".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> send(HttpClient client, String method, String url, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** @return the {@code Authorization} header value for a fresh token of {@code login} */
    static String tokenHeader(HttpClient tls, String account, String login, String apiKey) throws Exception {
        HttpResponse<String> r = send(tls, "POST", "https://127.0.0.1:" + apiPort() + "/authn/" + account + "/"
                + java.net.URLEncoder.encode(login, "UTF-8") + "/authenticate", apiKey);
        Assert.assertEquals(r.body(), 200, r.statusCode());
        return "Token token=\"" + java.util.Base64.getEncoder().encodeToString(r.body().getBytes("UTF-8")) + "\"";
    }

    /** Bounded polling that reports the last value it saw (never a bare sleep). */
    static <T> T eventually(String what, Supplier<T> probe, Predicate<T> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = probe.get();
                if (done.test(last)) {
                    return last;
                }
            } catch (RuntimeException e) {
                last = null;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Assert.fail(what + " within " + timeout.getSeconds() + "s; last value: " + last);
        return last;
    }

    static HttpResponse<String> unchecked(HttpClient client, String url) {
        try {
            return get(client, url);
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        }
    }

    static Option[] concat(Option[] a, Option... b) {
        Option[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
