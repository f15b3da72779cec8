package io.coffer.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code ./coffer bench}: the baseline (bare Jetty over the same TLS) and Coffer under the same load, in one run on
 * one machine. Phase 1, a standalone Leader: secret GET, authenticate, batch GET, permission check, a 10,000-object
 * policy load and a one-line PATCH. Phase 2, a Leader with a synchronous Standby and a Follower: secret GET on the
 * Follower, secret writes, write-to-Follower visibility lag at 100 writes/s, and the Follower's RSS holding 100,000
 * secrets. Prints a Markdown table, writes JSON, and ends with the summary line.
 */
public final class Bench {
    /** 64 bytes, the size of the baseline's body. */
    static final byte[] VALUE = Baseline.BODY;
    /** Secret writes spread over this many variables, as rotation spreads over many secrets. */
    static final int WRITE_VARIABLES = 100;

    final boolean smoke;
    final Path root;
    final Path work;
    final int offset;
    final int wrkSeconds;
    final int rateSeconds;
    final int warmSeconds;
    final Nodes nodes;
    final List<Row> rows = new ArrayList<>();
    final List<Target> targets = new ArrayList<>();
    final List<String> failures = new ArrayList<>();
    final ObjectNode json = Api.JSON.createObjectNode();
    double baselineRps;

    record Row(String scenario, String node, double rps, Double ratio, FixedRate.Result fixed, String note) {
    }

    record Target(String what, String goal, String measured, boolean met) {
    }

    Bench(boolean smoke, Path root, int offset, boolean jfr) {
        this.smoke = smoke;
        this.root = root;
        this.work = root.resolve("run").resolve(smoke ? "bench-smoke" : "bench");
        this.offset = offset;
        this.wrkSeconds = smoke ? 2 : 10;
        this.rateSeconds = smoke ? 1 : 10;
        this.warmSeconds = smoke ? 2 : 8;
        // --jfr: every node records a JFR profile (settings=profile) to data/log/bench.jfr, dumped when it stops.
        this.nodes = new Nodes(root, jfr ? "-XX:StartFlightRecording=settings=profile,dumponexit=true,"
                + "filename=data/log/bench.jfr" : null);
    }

    public static void main(String[] args) throws Exception {
        boolean smoke = false;
        boolean jfr = false;
        // Node ports stay below Linux's ephemeral range (32768+), where a client socket can take them first.
        int offset = 19000;
        Path root = Path.of(".").toAbsolutePath().normalize();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--jfr" -> jfr = true;
                case "--port-offset" -> offset = Integer.parseInt(args[++i]);
                case "--root" -> root = Path.of(args[++i]).toAbsolutePath().normalize();
                default -> throw new IllegalArgumentException(
                        "usage: Bench [--smoke] [--jfr] [--port-offset N] [--root DIR]");
            }
        }
        Bench b = new Bench(smoke, root, offset, jfr);
        b.run();
    }

    void run() throws Exception {
        Files.createDirectories(work);
        json.put("mode", smoke ? "smoke" : "full");
        json.put("cores", Runtime.getRuntime().availableProcessors());
        json.put("wrk", "-t" + Wrk.THREADS + " -c" + Wrk.CONNECTIONS + " -d" + wrkSeconds + "s");
        Path single = work.resolve("standalone");
        Path cluster = work.resolve("cluster");
        nodes.quietly("stop", "--dir", single.toString());
        nodes.quietly("cluster", "stop", "--dir", cluster.toString());
        Nodes.run(List.of("rm", "-rf", single.toString(), cluster.toString()), 120);
        // A phase that fails is reported (with what it measured before) and makes the run exit 1; the next runs.
        try {
            standalone(nodes.launch("start", "--dir", single.toString(), "--port-offset", String.valueOf(offset)),
                    single);
        } catch (Exception | AssertionError e) {
            failures.add("standalone phase: " + e);
            e.printStackTrace();
        } finally {
            nodes.quietly("stop", "--dir", single.toString());
        }
        try {
            cluster(nodes.launch("cluster", "start", "--dir", cluster.toString(), "--port-offset",
                    String.valueOf(offset + 100), "--standbys", "1", "--followers", "1"));
        } catch (Exception | AssertionError e) {
            failures.add("cluster phase: " + e);
            e.printStackTrace();
        } finally {
            nodes.quietly("cluster", "stop", "--dir", cluster.toString());
        }
        report();
    }

    // ------------------------------------------------------------------------------------------------ phase 1

    void standalone(Map<String, String> env, Path dir) throws Exception {
        Api api = new Api(env.get("COFFER_URL"), Path.of(env.get("COFFER_CA")), env.get("COFFER_ACCOUNT"));
        String admin = api.tokenHeader("admin", env.get("COFFER_API_KEY"));
        String appKey = setUpApp(api, admin);
        String acct = api.account;
        FixedRate gen = new FixedRate(Path.of(env.get("COFFER_CA")));
        try {
            // The baseline runs while the node idles, as the node idles while the baseline is measured.
            Process baseline = startBaseline(dir);
            try {
                Row row = measure("baseline (bare Jetty, 64-byte body)", "-", "https://127.0.0.1:" + baselinePort(),
                        Call.get("/", null, 200), gen);
                baselineRps = row.rps();
                rows.add(row);
            } finally {
                baseline.destroy();
                baseline.waitFor(10, TimeUnit.SECONDS);
            }
            String url = env.get("COFFER_URL");
            String app = api.tokenHeader("host/bench/app", appKey);
            rows.add(measure("secret GET", "Leader (standalone)", url,
                    Call.get("/secrets/" + acct + "/variable/bench%2Fv0", app, 200), gen));
            rows.add(measure("authenticate (API key → token)", "Leader (standalone)", url,
                    Call.post("/authn/" + acct + "/host%2Fbench%2Fapp/authenticate", null, "text/plain",
                            appKey.getBytes(StandardCharsets.UTF_8), 200), gen));
            app = api.tokenHeader("host/bench/app", appKey);
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < 10; i++) {
                ids.append(i == 0 ? "" : ",").append(acct).append(":variable:bench/v").append(i);
            }
            rows.add(measure("batch GET of 10 variables", "Leader (standalone)", url,
                    Call.get("/secrets?variable_ids=" + Api.enc(ids.toString()), app, 200), gen));
            app = api.tokenHeader("host/bench/app", appKey);
            rows.add(measure("permission check", "Leader (standalone)", url,
                    Call.get("/resources/" + acct + "/variable/bench%2Fv0?check=true&privilege=execute", app, 204),
                    gen));
        } finally {
            gen.stop();
        }
        policyLoad(api, api.tokenHeader("admin", env.get("COFFER_API_KEY")));
    }

    /** A host allowed to read and write ten variables; returns its API key. */
    String setUpApp(Api api, String admin) {
        StringBuilder y = new StringBuilder("- !policy\n  id: bench\n  body:\n  - !host app\n");
        StringBuilder res = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            y.append("  - !variable v").append(i).append('\n');
            res.append(i == 0 ? "" : ", ").append("!variable v").append(i);
        }
        y.append("  - !variable w\n");
        res.append(", !variable w");
        for (int i = 0; i < WRITE_VARIABLES; i++) {
            y.append("  - !variable w").append(i).append('\n');
            res.append(", !variable w").append(i);
        }
        y.append("  - !permit\n    role: !host app\n    privileges: [read, execute, update]\n    resources: [")
                .append(res).append("]\n");
        JsonNode created = api.loadPolicy(admin, "POST", "root", y.toString());
        String key = created.path("created_roles").path(api.account + ":host:bench/app").path("api_key").asText();
        if (key.isEmpty()) {
            throw new IllegalStateException("the policy load returned no API key for bench/app: " + created);
        }
        for (int i = 0; i < 10; i++) {
            api.setSecret(admin, "bench/v" + i, VALUE);
        }
        api.setSecret(admin, "bench/w", VALUE);
        return key;
    }

    void policyLoad(Api api, String admin) {
        int objects = smoke ? 200 : 10_000;
        String yaml = bigPolicy(objects);
        long t0 = System.nanoTime();
        api.loadPolicy(admin, "POST", "root", yaml);
        double load = (System.nanoTime() - t0) / 1e9;
        double patch = Double.MAX_VALUE;
        // The first PATCH after a big load may still meet cold caches; report the best of three one-line changes.
        for (int i = 0; i < 3; i++) {
            long p0 = System.nanoTime();
            api.loadPolicy(admin, "PATCH", "big", "- !variable extra" + i + "\n");
            patch = Math.min(patch, (System.nanoTime() - p0) / 1e9);
        }
        ObjectNode p = json.putObject("policy_load");
        p.put("objects", objects);
        p.put("load_seconds", load);
        p.put("patch_seconds", patch);
        rows.add(new Row("policy load, " + objects + " objects (POST)", "Leader (standalone)", Double.NaN, null, null,
                String.format(Locale.ROOT, "%.2f s", load)));
        rows.add(new Row("one-line PATCH on it (best of 3)", "Leader (standalone)", Double.NaN, null, null,
                String.format(Locale.ROOT, "%.3f s", patch)));
        targets.add(new Target("policy load of " + objects + " objects", "≤ 10 s", fmt(load) + " s", load <= 10));
        targets.add(new Target("one-line PATCH on it", "≤ 0.5 s", fmt(patch) + " s", patch <= 0.5));
    }

    /** Objects of every kind a real policy has: variables, hosts (each with an API key), groups and layers. */
    static String bigPolicy(int objects) {
        int vars = objects / 2;
        int hosts = objects / 4;
        int layers = Math.max(1, objects / 20);
        int groups = objects - vars - hosts - layers;
        StringBuilder y = new StringBuilder(objects * 40);
        y.append("- !policy\n  id: big\n  body:\n");
        for (int i = 0; i < vars; i++) {
            y.append("  - !variable v").append(i).append('\n');
        }
        for (int i = 0; i < hosts; i++) {
            y.append("  - !host h").append(i).append('\n');
        }
        for (int i = 0; i < groups; i++) {
            y.append("  - !group g").append(i).append('\n');
        }
        for (int i = 0; i < layers; i++) {
            y.append("  - !layer l").append(i).append('\n');
        }
        // Each host joins a layer; each layer may fetch ten variables.
        for (int i = 0; i < hosts; i++) {
            y.append("  - !grant\n    role: !layer l").append(i % layers).append("\n    member: !host h").append(i)
                    .append('\n');
        }
        for (int i = 0; i < layers; i++) {
            y.append("  - !permit\n    role: !layer l").append(i).append("\n    privileges: [read, execute]\n")
                    .append("    resources: [");
            for (int j = 0; j < 10; j++) {
                y.append(j == 0 ? "" : ", ").append("!variable v").append((i * 10 + j) % vars);
            }
            y.append("]\n");
        }
        return y.toString();
    }

    // ------------------------------------------------------------------------------------------------ phase 2

    void cluster(Map<String, String> env) throws Exception {
        Path ca = Path.of(env.get("COFFER_CA"));
        Api leader = new Api(env.get("COFFER_URL"), ca, env.get("COFFER_ACCOUNT"));
        Api follower = new Api(env.get("COFFER_READ_URL"), ca, env.get("COFFER_ACCOUNT"));
        String admin = leader.tokenHeader("admin", env.get("COFFER_API_KEY"));
        String appKey = setUpApp(leader, admin);
        String acct = leader.account;
        HttpResponse<byte[]> last = leader.setSecret(admin, "bench/v0", VALUE);
        String position = last.headers().firstValue("X-Coffer-Position").orElseThrow();
        follower.sendAt("GET", "/secrets/" + acct + "/variable/bench%2Fv0", admin, position, 200);
        long followerPid = Long.parseLong(env.get("NODE_n3_PID"));
        json.put("follower_rss_idle_mib", Nodes.rssMiB(followerPid));

        FixedRate gen = new FixedRate(ca);
        try {
            String app = leader.tokenHeader("host/bench/app", appKey);
            rows.add(measure("secret GET", "Follower", follower.url,
                    Call.get("/secrets/" + acct + "/variable/bench%2Fv0", app, 200), gen));
            app = leader.tokenHeader("host/bench/app", appKey);
            rows.add(measure("secret write (" + WRITE_VARIABLES + " variables, new values)", "Leader + sync Standby",
                    leader.url, Call.post("/secrets/" + acct + "/variable/bench%2Fw{n}", app,
                            "application/octet-stream", VALUE, 201).varying(WRITE_VARIABLES), gen));
        } finally {
            gen.stop();
        }
        lag(leader, follower, leader.tokenHeader("host/bench/app", appKey));
        rss(leader, follower, leader.refreshing("admin", env.get("COFFER_API_KEY")), followerPid);
    }

    /**
     * Leader-write to Follower-visible: writes at 100/s; right after each acknowledgement, the Follower is asked for
     * the value at the write's position (it answers once its snapshot has applied it). The lag is from the write's
     * acknowledgement to the Follower's answer.
     */
    void lag(Api leader, Api follower, String auth) throws Exception {
        int seconds = smoke ? 2 : 10;
        int rate = 100;
        Histogram hist = new ConcurrentHistogram(3);
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        String path = "/secrets/" + leader.account + "/variable/bench%2Fw";
        ExecutorService readers = Executors.newFixedThreadPool(16, Bench::daemon);
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(Bench::daemon);
        List<Future<?>> reads = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < rate * seconds; i++) {
            long due = start + i * 1_000_000_000L / rate;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            byte[] value = ("lag-" + i).getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> w = leader.setSecret(auth, "bench/w", value);
            long acked = System.nanoTime();
            String pos = w.headers().firstValue("X-Coffer-Position").orElseThrow();
            reads.add(readers.submit(() -> {
                HttpResponse<byte[]> r = follower.sendAt("GET", path, auth, pos, -1);
                long seen = System.nanoTime();
                if (r.statusCode() == 200 && version(r.body()) >= version(value)) {
                    hist.recordValue(Math.max(1, (seen - acked) / 1000));
                } else {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, r.statusCode() + " " + FixedRate.abbreviate(
                            new String(r.body(), StandardCharsets.UTF_8)));
                }
            }));
        }
        for (Future<?> f : reads) {
            f.get();
        }
        readers.shutdown();
        writer.shutdown();
        double p50 = hist.getValueAtPercentile(50) / 1000.0;
        double p99 = hist.getValueAtPercentile(99) / 1000.0;
        ObjectNode l = json.putObject("visibility_lag");
        l.put("writes_per_second", rate);
        l.put("writes", rate * seconds);
        l.put("p50_ms", p50);
        l.put("p99_ms", p99);
        l.put("max_ms", hist.getMaxValue() / 1000.0);
        l.put("failed", failed.get());
        rows.add(new Row("write → Follower-visible lag at 100 writes/s", "Leader → Follower", Double.NaN, null, null,
                String.format(Locale.ROOT, "p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d not seen in time%s", p50, p99,
                        hist.getMaxValue() / 1000.0, failed.get(),
                        firstFailure.get() == null ? "" : " (" + firstFailure.get() + ")")));
        targets.add(new Target("visibility lag p99 at 100 writes/s", "≤ 200 ms", fmt(p99) + " ms",
                p99 <= 200 && failed.get() == 0));
    }

    static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "bench-client");
        t.setDaemon(true);
        return t;
    }

    static int version(byte[] value) {
        String s = new String(value, StandardCharsets.UTF_8);
        return s.startsWith("lag-") ? Integer.parseInt(s.substring(4)) : -1;
    }

    /** The Follower's resident memory once it holds (and has served) every one of N secrets. */
    void rss(Api leader, Api follower, java.util.function.Supplier<String> admin, long followerPid)
            throws Exception {
        int total = smoke ? 1_000 : 100_000;
        int perPolicy = Math.min(total, 10_000);
        for (int p = 0; p < total / perPolicy; p++) {
            StringBuilder y = new StringBuilder("- !policy\n  id: many").append(p).append("\n  body:\n");
            for (int i = 0; i < perPolicy; i++) {
                y.append("  - !variable s").append(i).append('\n');
            }
            leader.loadPolicy(admin.get(), "POST", "root", y.toString());
        }
        ExecutorService writers = Executors.newFixedThreadPool(16, Bench::daemon);
        List<Future<String>> done = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < 16; w++) {
            int first = w;
            done.add(writers.submit(() -> {
                String pos = null;
                for (int n = first; n < total; n += 16) {
                    byte[] v = String.format(Locale.ROOT, "%064d", n).getBytes(StandardCharsets.US_ASCII);
                    pos = leader.setSecret(admin.get(), "many" + (n / perPolicy) + "/s" + (n % perPolicy), v).headers()
                            .firstValue("X-Coffer-Position").orElseThrow();
                }
                return pos;
            }));
        }
        String pos = null;
        for (Future<String> f : done) {
            String p = f.get();
            pos = pos == null || compare(p, pos) > 0 ? p : pos;
        }
        double writeSeconds = (System.nanoTime() - t0) / 1e9;
        writers.shutdown();
        // Read every secret once through the Follower, in batches of 100, so it holds all of them.
        String acct = leader.account;
        for (int b = 0; b < total; b += 100) {
            StringBuilder ids = new StringBuilder();
            for (int n = b; n < Math.min(total, b + 100); n++) {
                ids.append(n == b ? "" : ",").append(acct).append(":variable:many").append(n / perPolicy)
                        .append("/s").append(n % perPolicy);
            }
            follower.sendAt("GET", "/secrets?variable_ids=" + Api.enc(ids.toString()), admin.get(), pos, 200);
        }
        double rss = Nodes.rssMiB(followerPid);
        ObjectNode r = json.putObject("follower_rss");
        r.put("secrets", total);
        r.put("rss_mib", rss);
        r.put("write_seconds", writeSeconds);
        r.put("writes_per_second", total / writeSeconds);
        rows.add(new Row("Follower RSS holding " + total + " secrets", "Follower", Double.NaN, null, null,
                String.format(Locale.ROOT, "%.0f MiB (idle before: %.0f MiB); the %d writes took %.1f s, %.0f/s",
                        rss, json.path("follower_rss_idle_mib").asDouble(), total, writeSeconds,
                        total / writeSeconds)));
        targets.add(new Target("Follower RSS with " + total + " secrets", "≤ 512 MiB", fmt(rss) + " MiB",
                rss <= 512));
    }

    /** Positions compared as the product compares them (timeline first, then LSN). */
    static int compare(String a, String b) {
        return io.coffer.api.store.Position.parse(a).compareTo(io.coffer.api.store.Position.parse(b));
    }

    // ------------------------------------------------------------------------------------------------ measuring

    /** Maximum throughput (wrk, after a warm-up run), then latency at half of it (fixed rate, open loop). */
    Row measure(String scenario, String node, String url, Call call, FixedRate gen) throws Exception {
        System.err.println("# bench: " + scenario + " on " + node);
        Wrk.run(url, call, warmSeconds);
        Wrk.Result max = Wrk.run(url, call, wrkSeconds);
        if (max.wrongStatus() > 0 || max.socketErrors() > 0) {
            System.err.println("# bench: " + scenario + ": " + max.wrongStatus() + " unexpected answers, "
                    + max.socketErrors() + " socket errors; first: " + max.firstWrong());
        }
        double rate = Math.max(10, Math.floor(max.requestsPerSecond() / 2));
        FixedRate.Result fixed = gen.run(url, call, rate, rateSeconds, warmSeconds);
        Double ratio = baselineRps > 0 ? max.requestsPerSecond() / baselineRps : null;
        String note = "";
        if (max.wrongStatus() + max.socketErrors() > 0) {
            note += max.wrongStatus() + " wrong answers and " + max.socketErrors() + " socket errors under wrk ("
                    + max.firstWrong() + "), not counted; ";
        }
        if (fixed.failed() > 0) {
            note += fixed.failed() + " failed at the fixed rate (" + fixed.firstFailure() + ")";
        }
        Row row = new Row(scenario, node, max.requestsPerSecond(), ratio, fixed, note);
        ObjectNode j = ((ArrayNode) json.withArray("scenarios")).addObject();
        j.put("scenario", scenario);
        j.put("node", node);
        j.put("requests_per_second", max.requestsPerSecond());
        j.put("wrk_requests", max.requests());
        j.put("wrk_wrong_status", max.wrongStatus());
        j.put("wrk_socket_errors", max.socketErrors());
        if (ratio != null) {
            j.put("ratio_to_baseline", ratio);
        }
        j.put("fixed_rate", fixed.rate());
        j.put("fixed_sent", fixed.sent());
        j.put("fixed_failed", fixed.failed());
        j.put("p50_ms", fixed.p50());
        j.put("p99_ms", fixed.p99());
        j.put("p999_ms", fixed.p999());
        j.put("max_ms", fixed.max());
        return row;
    }

    int baselinePort() {
        return 8450 + offset;
    }

    Process startBaseline(Path dir) throws Exception {
        Properties web = new Properties();
        try (var in = Files.newInputStream(dir.resolve("etc/org.ops4j.pax.web.cfg"))) {
            web.load(in);
        }
        String keystore = dir.resolve("etc/tls/node.p12").toString();
        String pass = web.getProperty("org.ops4j.pax.web.ssl.keystore.password");
        String alias = web.getProperty("org.ops4j.pax.web.ssl.key.alias", "node");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "-Dorg.eclipse.jetty.util.log.class=org.eclipse.jetty.util.log.StdErrLog",
                "-Dorg.eclipse.jetty.LEVEL=WARN", Baseline.class.getName(), String.valueOf(baselinePort()), keystore,
                pass, alias).redirectErrorStream(true).redirectOutput(work.resolve("baseline.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", baselinePort()), 200);
                return p;
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("the baseline did not start: see " + work.resolve("baseline.log"));
                }
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("the baseline did not listen in 30 s");
    }

    // ------------------------------------------------------------------------------------------------ output

    void report() throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("## Coffer against the baseline (").append(smoke ? "smoke run, numbers mean nothing" : "full run")
                .append(")\n\n");
        md.append("Throughput: wrk ").append(json.path("wrk").asText())
                .append(" (closed loop). Latency: open loop at half that rate, from each request's due time.\n\n");
        md.append("| scenario | node | req/s | % of baseline | fixed rate | p50 ms | p99 ms | p99.9 ms | notes |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            md.append("| ").append(r.scenario()).append(" | ").append(r.node()).append(" | ")
                    .append(Double.isNaN(r.rps()) ? "" : String.format(Locale.ROOT, "%.0f", r.rps())).append(" | ")
                    .append(r.ratio() == null ? "" : String.format(Locale.ROOT, "%.0f %%", 100 * r.ratio()))
                    .append(" | ");
            if (r.fixed() != null) {
                FixedRate.Result f = r.fixed();
                md.append(String.format(Locale.ROOT, "%.0f | %.2f | %.2f | %.2f", f.rate(), f.p50(), f.p99(),
                        f.p999()));
            } else {
                md.append(" | | | ");
            }
            md.append(" | ").append(r.note() == null ? "" : r.note()).append(" |\n");
        }
        Row get = find("secret GET", "Follower");
        Row getLeader = find("secret GET", "Leader (standalone)");
        Row auth = find("authenticate (API key → token)", null);
        if (get != null) {
            targets.add(0, new Target("secret GET on a Follower", "≥ 60 % of baseline", pct(get), get.ratio() >= 0.6));
            targets.add(1, new Target("its p99 at half that rate", "≤ 5 ms", fmt(get.fixed().p99()) + " ms",
                    get.fixed().p99() <= 5 && get.fixed().failed() == 0));
        }
        if (getLeader != null) {
            targets.add(2, new Target("secret GET on a standalone Leader", "≥ 60 % of baseline", pct(getLeader),
                    getLeader.ratio() >= 0.6));
        }
        if (auth != null) {
            targets.add(3, new Target("authenticate", "≥ 25 % of baseline", pct(auth), auth.ratio() >= 0.25));
        }
        md.append("\n| target | goal | measured | met |\n|---|---|---|---|\n");
        ArrayNode tj = json.putArray("targets");
        for (Target t : targets) {
            md.append("| ").append(t.what()).append(" | ").append(t.goal()).append(" | ").append(t.measured())
                    .append(" | ").append(t.met() ? "yes" : "**no**").append(" |\n");
            ObjectNode o = tj.addObject();
            o.put("target", t.what());
            o.put("goal", t.goal());
            o.put("measured", t.measured());
            o.put("met", t.met());
        }
        long p = get == null ? 0 : Math.round(100 * get.ratio());
        long q = auth == null ? 0 : Math.round(100 * auth.ratio());
        String summary = "bench: secret-get " + p + "% of baseline, authenticate " + q + "% of baseline";
        json.put("summary", summary);
        Path out = work.resolve("bench.json");
        Api.JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), json);
        Files.writeString(work.resolve("bench.md"), md, StandardCharsets.UTF_8);
        System.out.print(md);
        System.out.println();
        System.out.println("JSON: " + root.relativize(out));
        List<String> broken = broken();
        for (String b : broken) {
            System.err.println("bench: FAILED: " + b);
        }
        System.out.println(summary);
        if (!broken.isEmpty()) {
            System.exit(1);
        }
    }

    /** What shows the benchmark itself didn't work (as opposed to a missed target): a scenario with no good answer. */
    List<String> broken() {
        List<String> out = new ArrayList<>(failures);
        for (Row r : rows) {
            if (r.fixed() != null && (r.rps() <= 0 || r.fixed().ok() == 0)) {
                out.add(r.scenario() + " on " + r.node() + ": no request answered as expected (" + r.note() + ")");
            }
        }
        if (json.path("visibility_lag").path("writes").asLong() > 0
                && json.path("visibility_lag").path("failed").asLong() == json.path("visibility_lag").path("writes")
                        .asLong()) {
            out.add("visibility lag: no write became visible on the Follower");
        }
        return out;
    }

    Row find(String scenario, String node) {
        for (Row r : rows) {
            if (r.scenario().equals(scenario) && (node == null || r.node().equals(node)) && r.ratio() != null) {
                return r;
            }
        }
        return null;
    }

    static String pct(Row r) {
        return String.format(Locale.ROOT, "%.0f %% (%.0f req/s)", 100 * r.ratio(), r.rps());
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, v < 1 ? "%.3f" : "%.1f", v);
    }
}
