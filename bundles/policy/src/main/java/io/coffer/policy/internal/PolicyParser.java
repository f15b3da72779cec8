package io.coffer.policy.internal;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Parses policy YAML into statements. It only <em>composes</em> the YAML into a node graph and interprets the
 * tags itself: no YAML tag ever constructs an object, so {@code !!java...} or any other tag is just an unknown tag
 * (422). Aliases, nesting and size are bounded, and a statement budget stops alias fan-out.
 */
final class PolicyParser {
    static final int MAX_ALIASES = 100;
    static final int MAX_DEPTH = 64;
    static final int MAX_STATEMENTS = 200_000;

    private int budget;

    List<Statement> parse(String text, int maxBytes) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setAllowRecursiveKeys(false);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setCodePointLimit(Math.max(1, maxBytes));
        options.setAllowDuplicateKeys(false);
        Yaml yaml = new Yaml(new SafeConstructor(options), new org.yaml.snakeyaml.representer.Representer(
                new org.yaml.snakeyaml.DumperOptions()), new org.yaml.snakeyaml.DumperOptions(), options);
        List<Node> documents = new ArrayList<>();
        try {
            for (Node n : yaml.composeAll(new StringReader(text))) {
                documents.add(n);
                if (documents.size() > 1) {
                    throw at(n, "policy must be a single YAML document");
                }
            }
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new PolicyException(firstLine(e.getProblem() != null ? e.getProblem() : e.getMessage()),
                    m == null ? 0 : m.getLine() + 1, m == null ? 0 : m.getColumn() + 1);
        } catch (YAMLException e) {
            throw new PolicyException(firstLine(e.getMessage()), 0, 0);
        }
        budget = MAX_STATEMENTS;
        if (documents.isEmpty()) {
            return List.of();
        }
        Node root = documents.get(0);
        if (root instanceof ScalarNode && ((ScalarNode) root).getValue().isEmpty()) {
            return List.of();
        }
        if (!(root instanceof SequenceNode)) {
            throw at(root, "policy must be a sequence of records");
        }
        List<Statement> out = new ArrayList<>();
        statements(root, out, new IdentityHashMap<>());
        return out;
    }

    /** Flattens nested sequences (e.g. an anchored list of variables) into statements. */
    private void statements(Node node, List<Statement> out, Map<Node, Boolean> active) {
        if (node instanceof SequenceNode) {
            if (active.put(node, Boolean.TRUE) != null) {
                throw at(node, "recursive alias");
            }
            for (Node item : ((SequenceNode) node).getValue()) {
                statements(item, out, active);
            }
            active.remove(node);
            return;
        }
        out.add(statement(node));
    }

    private Statement statement(Node node) {
        if (--budget < 0) {
            throw at(node, "policy is too large (more than " + MAX_STATEMENTS + " statements after alias expansion)");
        }
        String tag = node.getTag().getValue();
        if (!Tags.RECORDS.containsKey(tag) && !Tags.STATEMENTS.contains(tag)) {
            throw at(node, "Unrecognized data type '" + displayTag(tag) + "'");
        }
        Statement s = new Statement(tag, line(node), column(node));
        if (node instanceof ScalarNode) {
            if (!s.isRecord()) {
                throw at(node, Tags.typeName(tag) + " needs fields, not a scalar");
            }
            s.id = ((ScalarNode) node).getValue();
            return s;
        }
        if (!(node instanceof MappingNode)) {
            throw at(node, "Expected a mapping or an id for " + Tags.typeName(tag));
        }
        Set<String> seen = new HashSet<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            String key = scalar(t.getKeyNode(), "attribute name");
            if (!Tags.FIELDS.get(tag).contains(key)) {
                throw at(t.getKeyNode(), "No such attribute '" + key + "' on type " + Tags.typeName(tag));
            }
            String canonical = key.endsWith("s") && Tags.FIELDS.get(tag).contains(key.substring(0, key.length() - 1))
                    ? key.substring(0, key.length() - 1) : key;
            if (!seen.add(canonical)) {
                throw at(t.getKeyNode(), "Duplicate attribute: " + canonical);
            }
            field(s, canonical, t.getValueNode());
        }
        return s;
    }

    private void field(Statement s, String key, Node value) {
        switch (key) {
            case "id": s.id = scalar(value, "id"); break;
            case "owner": s.owner = ref(value, "owner"); break;
            case "annotations": annotations(s, value); break;
            case "body":
                if (!(value instanceof SequenceNode)) {
                    throw at(value, "Expected a list of records for field 'body'");
                }
                statementsInto(value, s.body);
                break;
            case "restricted_to": s.restrictedTo.addAll(scalars(value, "restricted_to")); break;
            case "public_key": s.publicKeys.addAll(scalars(value, "public_key")); break;
            case "uidnumber": s.annotations.put("conjur/uidnumber", integer(value, "uidnumber")); break;
            case "gidnumber": s.annotations.put("conjur/gidnumber", integer(value, "gidnumber")); break;
            case "kind":
                if (s.tag.equals("!variable")) {
                    s.annotations.put("conjur/kind", scalar(value, "kind"));
                } else {
                    s.customKind = scalar(value, "kind");
                }
                break;
            case "mime_type": s.annotations.put("conjur/mime_type", scalar(value, "mime_type")); break;
            case "layer": s.layers.addAll(refs(value, "layers")); break;
            case "role":
                if (s.tag.equals("!host-factory")) {
                    refs(value, "role"); // accepted and checked, but unused: Conjur's loader ignores it too
                } else {
                    s.roles.addAll(refs(value, "role"));
                }
                break;
            case "member": members(s, value); break;
            case "privilege": s.privileges.addAll(scalars(value, "privilege")); break;
            case "resource": s.resources.addAll(refs(value, "resource")); break;
            case "record": s.record = ref(value, "record"); break;
            default: throw at(value, "No such attribute '" + key + "' on type " + Tags.typeName(s.tag));
        }
    }

    private void statementsInto(Node seq, List<Statement> into) {
        statements(seq, into, new IdentityHashMap<>());
    }

    private void annotations(Statement s, Node value) {
        if (!(value instanceof MappingNode)) {
            throw at(value, "Expected a map for field 'annotations'");
        }
        for (NodeTuple t : ((MappingNode) value).getValue()) {
            String k = scalar(t.getKeyNode(), "annotation name");
            if (!(t.getValueNode() instanceof ScalarNode)) {
                throw at(t.getValueNode(), "annotation '" + k + "' must be a scalar");
            }
            s.annotations.put(k, ((ScalarNode) t.getValueNode()).getValue());
        }
    }

    private void members(Statement s, Node value) {
        for (Node n : items(value)) {
            if ("!member".equals(n.getTag().getValue())) {
                if (!(n instanceof MappingNode)) {
                    throw at(n, "Expected fields role and admin for Member");
                }
                Statement.Ref role = null;
                boolean admin = false;
                for (NodeTuple t : ((MappingNode) n).getValue()) {
                    String k = scalar(t.getKeyNode(), "attribute name");
                    if (k.equals("role")) {
                        role = ref(t.getValueNode(), "role");
                    } else if (k.equals("admin")) {
                        admin = Boolean.parseBoolean(scalar(t.getValueNode(), "admin"));
                    } else {
                        throw at(t.getKeyNode(), "No such attribute '" + k + "' on type Member");
                    }
                }
                if (role == null) {
                    throw at(n, "Member needs a role");
                }
                s.members.add(new Statement.Member(role, admin));
            } else {
                s.members.add(new Statement.Member(ref(n, "member"), false));
            }
        }
    }

    private List<Node> items(Node value) {
        List<Node> out = new ArrayList<>();
        flatten(value, out, new IdentityHashMap<>());
        return out;
    }

    private void flatten(Node value, List<Node> out, Map<Node, Boolean> active) {
        if (value instanceof SequenceNode) {
            if (active.put(value, Boolean.TRUE) != null) {
                throw at(value, "recursive alias");
            }
            for (Node n : ((SequenceNode) value).getValue()) {
                flatten(n, out, active);
            }
            active.remove(value);
        } else {
            if (--budget < 0) {
                throw at(value, "policy is too large (more than " + MAX_STATEMENTS + " references after alias expansion)");
            }
            out.add(value);
        }
    }

    private List<Statement.Ref> refs(Node value, String field) {
        List<Statement.Ref> out = new ArrayList<>();
        for (Node n : items(value)) {
            out.add(ref(n, field));
        }
        return out;
    }

    private Statement.Ref ref(Node n, String field) {
        String tag = n.getTag().getValue();
        String kind = Tags.RECORDS.get(tag);
        if (kind == null) {
            throw at(n, "Expected a Role or Resource for field '" + field + "', got " + describe(n));
        }
        String id;
        if (n instanceof ScalarNode) {
            id = ((ScalarNode) n).getValue();
        } else if (n instanceof MappingNode) {
            id = "";
            for (NodeTuple t : ((MappingNode) n).getValue()) {
                if ("id".equals(scalar(t.getKeyNode(), "attribute name"))) {
                    id = scalar(t.getValueNode(), "id");
                }
            }
        } else {
            throw at(n, "Expected a Role or Resource for field '" + field + "', got a list");
        }
        return new Statement.Ref(kind, id, line(n), column(n));
    }

    private List<String> scalars(Node value, String field) {
        List<String> out = new ArrayList<>();
        for (Node n : items(value)) {
            out.add(scalar(n, field));
        }
        return out;
    }

    private static String scalar(Node n, String what) {
        if (!(n instanceof ScalarNode)) {
            throw at(n, "Expected a string for " + what + ", got " + describe(n));
        }
        String tag = n.getTag().getValue();
        if (Tags.RECORDS.containsKey(tag) || Tags.STATEMENTS.contains(tag)) {
            throw at(n, "Expected a string for " + what + ", got " + Tags.typeName(tag));
        }
        return ((ScalarNode) n).getValue();
    }

    private static String integer(Node n, String field) {
        String v = scalar(n, field);
        if (!v.matches("-?[0-9]{1,10}")) {
            throw at(n, "Expected an integer for field '" + field + "', got String");
        }
        return v;
    }

    private static String describe(Node n) {
        String tag = n.getTag().getValue();
        if (Tags.RECORDS.containsKey(tag) || Tags.STATEMENTS.contains(tag)) {
            return Tags.typeName(tag);
        }
        return n instanceof SequenceNode ? "a list" : n instanceof MappingNode ? "a map" : "String";
    }

    private static String displayTag(String tag) {
        return tag.startsWith("tag:yaml.org,2002:") ? "!!" + tag.substring("tag:yaml.org,2002:".length()) : tag;
    }

    private static int line(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    private static int column(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getColumn() + 1;
    }

    static PolicyException at(Node n, String message) {
        return new PolicyException(message, line(n), column(n));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid YAML";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
