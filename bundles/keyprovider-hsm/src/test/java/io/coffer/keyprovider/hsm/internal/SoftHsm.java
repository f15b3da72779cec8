package io.coffer.keyprovider.hsm.internal;

import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * A real SoftHSM2 token for tests, in the folder {@code SOFTHSM2_CONF} points into (the build sets it for the test
 * JVM: SoftHSM reads it from the environment when the module is initialised). Tests are skipped, with a message
 * saying so, only when the softhsm2 package is not installed.
 */
final class SoftHsm {
    static final String PIN = "1234";
    static final List<String> LIBRARIES = List.of("/usr/lib/softhsm/libsofthsm2.so",
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so");

    private SoftHsm() {
    }

    static String library() {
        return LIBRARIES.stream().filter(l -> Files.isRegularFile(Paths.get(l))).findFirst().orElse(null);
    }

    /** Creates the token once per JVM (before any provider initialises the module); skips when SoftHSM2 is absent. */
    static synchronized String token() throws IOException, InterruptedException {
        String lib = library();
        assumeTrue("SKIPPED: SoftHSM2 is not installed (apt-get install softhsm2); HSM tests need a real token",
                lib != null && onPath("softhsm2-util"));
        String conf = System.getenv("SOFTHSM2_CONF");
        assumeTrue("SKIPPED: SOFTHSM2_CONF is not set for the test JVM", conf != null);
        Path tokens = Paths.get(conf).getParent().resolve("tokens");
        if (!Files.isDirectory(tokens)) {
            Files.createDirectories(tokens);
            Files.writeString(Paths.get(conf), "directories.tokendir = " + tokens + "\nobjectstore.backend = file\n"
                    + "log.level = ERROR\nslots.removable = false\n", StandardCharsets.US_ASCII);
            Process p = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", "coffer-test",
                    "--pin", PIN, "--so-pin", "5678").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("softhsm2-util --init-token failed: " + out);
            }
        }
        return lib;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Paths.get(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    static HsmKeyProvider provider(String library, String label, String pinEnv, String pinFile) {
        return new HsmKeyProvider(new HsmKeyProvider.Config() {
            public Class<? extends Annotation> annotationType() { return HsmKeyProvider.Config.class; }
            public String library() { return library; }
            public int slot_list_index() { return 0; }
            public String key_label() { return label; }
            public String pin_env() { return pinEnv; }
            public String pin_file() { return pinFile; }
            public boolean generate_key() { return true; }
        });
    }
}
