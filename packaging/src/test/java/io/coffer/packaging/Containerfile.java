package io.coffer.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Containerfile read as its instructions (continuation lines joined, comments dropped): enough of the format for
 * the checks, not a builder.
 */
final class Containerfile {
    /** One instruction: its keyword (upper case) and the rest of its line. */
    static final class Instruction {
        final String keyword;
        final String args;

        Instruction(String keyword, String args) {
            this.keyword = keyword;
            this.args = args;
        }
    }

    final List<Instruction> instructions = new ArrayList<>();

    static Containerfile read(Path file) throws IOException {
        Containerfile c = new Containerfile();
        StringBuilder line = new StringBuilder();
        for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String t = raw.strip();
            if (line.length() == 0 && (t.isEmpty() || t.startsWith("#"))) {
                continue;
            }
            if (t.endsWith("\\")) {
                line.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            line.append(t);
            String[] kv = line.toString().strip().split("\\s+", 2);
            c.instructions.add(new Instruction(kv[0].toUpperCase(), kv.length > 1 ? kv[1].strip() : ""));
            line.setLength(0);
        }
        return c;
    }

    List<String> all(String keyword) {
        List<String> out = new ArrayList<>();
        for (Instruction i : instructions) {
            if (i.keyword.equals(keyword)) {
                out.add(i.args);
            }
        }
        return out;
    }

    String last(String keyword) {
        List<String> a = all(keyword);
        return a.isEmpty() ? null : a.get(a.size() - 1);
    }

    /** The ports of every EXPOSE (protocol suffixes dropped). */
    Set<Integer> exposed() {
        Set<Integer> ports = new LinkedHashSet<>();
        for (String e : all("EXPOSE")) {
            for (String p : e.split("\\s+")) {
                ports.add(Integer.parseInt(p.replaceAll("/.*", "")));
            }
        }
        return ports;
    }

    /** ENV KEY=VALUE pairs, in order (later ones win). */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        Pattern kv = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\\S*)");
        for (String e : all("ENV")) {
            Matcher m = kv.matcher(e);
            while (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        }
        return env;
    }

    /** The exec form of ENTRYPOINT: the JSON array's strings (none of them hold quotes or escapes). */
    List<String> entrypoint() {
        String e = last("ENTRYPOINT");
        List<String> out = new ArrayList<>();
        if (e == null || !e.startsWith("[")) {
            return out;
        }
        Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(e);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** For each COPY (no --from): destination path or folder -> its sources. */
    Map<String, List<String>> copies() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String c : all("COPY")) {
            List<String> parts = new ArrayList<>(List.of(c.split("\\s+")));
            parts.removeIf(p -> p.startsWith("--chown") || p.startsWith("--chmod"));
            if (parts.stream().anyMatch(p -> p.startsWith("--from"))) {
                continue;
            }
            out.put(parts.get(parts.size() - 1), parts.subList(0, parts.size() - 1));
        }
        return out;
    }
}
