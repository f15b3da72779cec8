package io.coffer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maximum throughput, closed loop: Debian's wrk with one thread and 32 connections (wrk shares the two cores with
 * the server, so more threads only steal from it). A Lua script carries method, headers and body, and counts
 * answers whose status is not the expected one: those don't count as throughput.
 */
final class Wrk {
    static final int THREADS = 1;
    static final int CONNECTIONS = 32;

    record Result(double requestsPerSecond, long requests, long wrongStatus, long socketErrors, String firstWrong) {
    }

    private Wrk() {
    }

    static Result run(String baseUrl, Call call, int seconds) {
        try {
            Path script = Files.createTempFile("coffer-bench", ".lua");
            try {
                Files.writeString(script, lua(call), StandardCharsets.UTF_8);
                String out = Nodes.run(List.of("wrk", "-t" + THREADS, "-c" + CONNECTIONS, "-d" + seconds + "s",
                        "--timeout", "10s", "-s", script.toString(), baseUrl + call.path(0)), seconds + 60);
                return parse(out, call.expect());
            } finally {
                Files.deleteIfExists(script);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String lua(Call call) {
        StringBuilder s = new StringBuilder();
        s.append("wrk.method = ").append(str(call.method())).append('\n');
        if (call.vary() > 0) {
            // The same paths and bodies as Call.path(i) and Call.body(i).
            s.append("counter = 0\n");
            String[] around = call.path().split("\\{n\\}", 2);
            s.append("function request()\n  counter = counter + 1\n")
                    .append("  local path = ").append(str(around[0])).append(" .. tostring(counter % ")
                    .append(call.vary()).append(") .. ").append(str(around.length > 1 ? around[1] : "")).append('\n')
                    .append("  return wrk.format(nil, path, nil, string.format('%s-%058d', ").append(str(call.run()))
                    .append(", counter))\nend\n");
        }
        for (Map.Entry<String, String> h : call.headers().entrySet()) {
            s.append("wrk.headers[").append(str(h.getKey())).append("] = ").append(str(h.getValue())).append('\n');
        }
        if (call.body() != null) {
            s.append("wrk.body = ").append(str(new String(call.body(), StandardCharsets.UTF_8))).append('\n');
        }
        // response() runs in each thread's own Lua state: keep the counts there (globals, so thread:get sees
        // them) and collect them in done(), which runs in the main state.
        s.append("wrong = 0\nfirst = nil\nlocal threads = {}\n");
        s.append("function setup(thread) table.insert(threads, thread) end\n");
        s.append("function response(status, headers, body)\n")
                .append("  if status ~= ").append(call.expect()).append(" then\n")
                .append("    wrong = wrong + 1\n")
                .append("    if first == nil then first = status .. ' ' .. string.sub(body or '', 1, 200) end\n")
                .append("  end\nend\n");
        s.append("function done(summary, latency, requests)\n")
                .append("  for _, t in ipairs(threads) do\n")
                .append("    io.write('WRONG ' .. t:get('wrong') .. ' ' .. (t:get('first') or '') .. '\\n')\n")
                .append("  end\nend\n");
        return s.toString();
    }

    static String str(String v) {
        StringBuilder s = new StringBuilder("\"");
        for (char c : v.toCharArray()) {
            if (c == '"' || c == '\\') {
                s.append('\\').append(c);
            } else if (c < 0x20) {
                s.append(String.format("\\%03d", (int) c));
            } else {
                s.append(c);
            }
        }
        return s.append('"').toString();
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern TOTAL = Pattern.compile("(\\d+) requests in");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern SOCKET = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    static Result parse(String out, int expect) {
        Matcher m = RPS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no rate:\n" + out);
        }
        double rps = Double.parseDouble(m.group(1));
        Matcher t = TOTAL.matcher(out);
        long total = t.find() ? Long.parseLong(t.group(1)) : 0;
        Matcher n = NON2XX.matcher(out);
        long non2xx = n.find() ? Long.parseLong(n.group(1)) : 0;
        Matcher s = SOCKET.matcher(out);
        long sock = 0;
        if (s.find()) {
            for (int i = 1; i <= 4; i++) {
                sock += Long.parseLong(s.group(i));
            }
        }
        long wrong = non2xx;
        String first = null;
        Matcher w = Pattern.compile("WRONG (\\d+) ?(.*)").matcher(out);
        long counted = 0;
        while (w.find()) {
            counted += Long.parseLong(w.group(1));
            if (first == null && !w.group(2).isBlank()) {
                first = w.group(2);
            }
        }
        wrong = Math.max(wrong, counted);
        // Only answers with the expected status count as throughput.
        double good = total == 0 ? rps : rps * (total - Math.min(total, wrong + sock)) / total;
        return new Result(good, total, wrong, sock, first);
    }
}
