package io.coffer.itests;

import java.io.File;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.ArrayList;

import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** Coffer's features.xml as a graph: which features and bundles a feature reaches. */
final class FeatureGraph {
    final Map<String, List<String>> features = new HashMap<>();
    final Map<String, List<String>> bundles = new HashMap<>();

    static FeatureGraph load(File xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(xml);
        FeatureGraph g = new FeatureGraph();
        NodeList all = doc.getDocumentElement().getChildNodes();
        for (int i = 0; i < all.getLength(); i++) {
            Node n = all.item(i);
            if (n instanceof Element && "feature".equals(n.getLocalName())) {
                Element feature = (Element) n;
                String name = feature.getAttribute("name");
                List<String> deps = new ArrayList<>();
                List<String> bs = new ArrayList<>();
                collect(feature, deps, bs);
                g.features.put(name, deps);
                g.bundles.put(name, bs);
            }
        }
        return g;
    }

    /** Includes bundles of {@code <conditional>} blocks: a write bundle behind a condition is still a write bundle. */
    private static void collect(Element parent, List<String> deps, List<String> bs) {
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node c = children.item(i);
            if (!(c instanceof Element)) {
                continue;
            }
            switch (c.getLocalName()) {
                case "feature": deps.add(c.getTextContent().trim()); break;
                case "bundle": bs.add(c.getTextContent().trim()); break;
                case "conditional": collect((Element) c, deps, bs); break;
                default: break;
            }
        }
    }

    /** @return {@code root} and every feature of this repository it reaches */
    Set<String> closure(String root) {
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            String f = todo.pop();
            if (seen.add(f)) {
                todo.addAll(features.getOrDefault(f, List.of()));
            }
        }
        return seen;
    }

    /** @return every bundle location the features reached from {@code root} name */
    Set<String> bundleClosure(String root) {
        Set<String> out = new LinkedHashSet<>();
        for (String f : closure(root)) {
            out.addAll(bundles.getOrDefault(f, List.of()));
        }
        return out;
    }

    /** @return bundles that {@code coffer-write} brings beyond what every node runs */
    Set<String> writeOnlyBundles() {
        Set<String> write = bundleClosure("coffer-write");
        write.removeAll(bundleClosure("coffer-core"));
        return write;
    }
}
