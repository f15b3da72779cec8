package io.coffer.packaging;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Every Kubernetes object in packaging/k8s/*.yaml, parsed with SnakeYAML (safe constructor: plain maps and lists). */
final class Manifests {
    /** The image's user (Containerfile USER) that the pods' securityContext names. */
    static final int IMAGE_UID = 10001;

    final List<Map<String, Object>> objects = new ArrayList<>();
    final List<Path> files = new ArrayList<>();

    static Manifests load(Path dir) throws IOException {
        Manifests m = new Manifests();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(m.files::add);
        }
        for (Path f : m.files) {
            try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r)) {
                    if (doc != null) {
                        m.objects.add(map(doc));
                    }
                }
            }
        }
        return m;
    }

    List<Map<String, Object>> ofKind(String kind) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> o : objects) {
            if (kind.equals(o.get("kind"))) {
                out.add(o);
            }
        }
        return out;
    }

    Map<String, Object> named(String kind, String name) {
        for (Map<String, Object> o : ofKind(kind)) {
            if (name.equals(str(o, "metadata", "name"))) {
                return o;
            }
        }
        throw new AssertionError("no " + kind + " " + name);
    }

    // ---------------------------------------------------------------------------------------- navigation helpers
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map)) {
            throw new AssertionError("expected a mapping, found " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List)) {
            throw new AssertionError("expected a list, found " + o);
        }
        return (List<Object>) o;
    }

    /** The value at a path of keys, or null. */
    static Object at(Object o, String... keys) {
        Object cur = o;
        for (String k : keys) {
            if (!(cur instanceof Map)) {
                return null;
            }
            cur = ((Map<?, ?>) cur).get(k);
        }
        return cur;
    }

    static String str(Object o, String... keys) {
        Object v = at(o, keys);
        return v == null ? null : v.toString();
    }

    static Map<String, Object> podSpec(Map<String, Object> workload) {
        return map(at(workload, "spec", "template", "spec"));
    }

    /** Containers and init containers of a pod spec. */
    static List<Map<String, Object>> containers(Map<String, Object> podSpec) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object c : list(podSpec.get("initContainers"))) {
            out.add(map(c));
        }
        for (Object c : list(podSpec.get("containers"))) {
            out.add(map(c));
        }
        return out;
    }
}
