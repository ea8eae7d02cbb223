package dev.cairn.pipeline;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A parsed YAML spec that remembers the line of every value, so each complaint about the spec
 * names {@code spec.yaml:LINE: key.path}. Only mappings, sequences and scalars are kept; YAML
 * anchors, tags and multi-document streams are refused (a spec is one plain document).
 */
final class SpecTree {
    /** Specs are small; a larger file is a mistake, not a spec. */
    static final int MAX_BYTES = 1 << 20;
    private static final int MAX_DEPTH = 32;

    /** One value: a map (String → Node, in file order), a list of nodes, or a scalar string (null for YAML null). */
    record Node(String path, int line, Object value) {
        boolean isMap() {
            return value instanceof Map;
        }

        boolean isList() {
            return value instanceof List;
        }

        boolean isScalar() {
            return !isMap() && !isList();
        }

        @SuppressWarnings("unchecked")
        Map<String, Node> map() {
            return (Map<String, Node>) value;
        }

        @SuppressWarnings("unchecked")
        List<Node> list() {
            return (List<Node>) value;
        }
    }

    private final Path file;
    private final Node root;

    private SpecTree(Path file, Node root) {
        this.file = file;
        this.root = root;
    }

    Node root() {
        return root;
    }

    Path file() {
        return file;
    }

    static SpecTree parse(Path file, byte[] yaml) throws SpecException {
        if (yaml.length > MAX_BYTES) {
            throw new SpecException(file, 0, "", "larger than " + MAX_BYTES + " bytes: not a build spec");
        }
        YAMLFactory f = YAMLFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).maxStringLength(MAX_BYTES).build())
                .build();
        try (JsonParser p = f.createParser(yaml)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new SpecException(file, 1, "", "the spec is empty");
            }
            if (t != JsonToken.START_OBJECT) {
                throw new SpecException(file, line(p.currentLocation()), "", "the spec must be a mapping (key: value lines)");
            }
            Node root = read(file, p, "", 0, 0);
            if (p.nextToken() != null) {
                throw new SpecException(file, line(p.currentLocation()), "", "only one YAML document is allowed");
            }
            return new SpecTree(file, root);
        } catch (SpecException e) {
            throw e;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new SpecException(file, loc == null ? 0 : line(loc), "", "not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SpecException(file, 0, "", "cannot read: " + e.getMessage());
        }
    }

    private static Node read(Path file, JsonParser p, String path, int depth, int atLine) throws IOException {
        int line = atLine > 0 ? atLine : line(p.currentTokenLocation());
        JsonToken t = p.currentToken();
        if (depth > MAX_DEPTH) {
            throw new SpecException(file, line, path, "nested deeper than " + MAX_DEPTH + " levels");
        }
        if (p.getTypeId() != null || (p.canReadObjectId() && p.getObjectId() != null)) {
            throw new SpecException(file, line, path, "YAML tags and anchors are not allowed in a spec");
        }
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    int keyLine = line(p.currentTokenLocation());
                    String childPath = path.isEmpty() ? name : path + "." + name;
                    p.nextToken();
                    Node child = read(file, p, childPath, depth + 1, keyLine);
                    if (m.put(name, child) != null) {
                        throw new SpecException(file, keyLine, childPath, "given twice");
                    }
                }
                return new Node(path, line, Collections.unmodifiableMap(m));
            }
            case START_ARRAY -> {
                List<Node> l = new ArrayList<>();
                int i = 0;
                for (JsonToken k = p.nextToken(); k != JsonToken.END_ARRAY; k = p.nextToken()) {
                    l.add(read(file, p, path + "[" + i++ + "]", depth + 1, 0));
                }
                return new Node(path, line, List.copyOf(l));
            }
            case VALUE_NULL -> {
                return new Node(path, line, null);
            }
            default -> {
                if (!t.isScalarValue()) {
                    throw new SpecException(file, line, path, "unexpected " + t);
                }
                return new Node(path, line, p.getText());
            }
        }
    }

    private static int line(JsonLocation l) {
        return l == null ? 0 : l.getLineNr();
    }

    // ---- typed access; every failure names the line ----

    SpecException error(Node n, String message) {
        return new SpecException(file, n.line(), n.path(), message);
    }

    /** Refuses keys of {@code map} other than {@code allowed} (a typo must not be silently ignored). */
    void onlyKeys(Node map, String... allowed) throws SpecException {
        Set<String> ok = Set.of(allowed);
        for (Map.Entry<String, Node> e : map.map().entrySet()) {
            if (!ok.contains(e.getKey())) {
                throw error(e.getValue(), "unknown key '" + e.getKey() + "' (known here: " + String.join(", ", new TreeSet<>(ok)) + ")");
            }
        }
    }

    Node map(Node parent, String key, boolean required) throws SpecException {
        Node n = parent.map().get(key);
        if (n == null || n.value() == null) {
            if (required) {
                throw error(parent, "missing '" + key + "'");
            }
            return null;
        }
        if (!n.isMap()) {
            throw error(n, "must be a mapping");
        }
        return n;
    }

    String string(Node parent, String key, boolean required) throws SpecException {
        Node n = parent.map().get(key);
        if (n == null || n.value() == null) {
            if (required) {
                throw error(parent, "missing '" + key + "'");
            }
            return null;
        }
        if (!n.isScalar()) {
            throw error(n, "must be a single value");
        }
        String s = (String) n.value();
        if (s.indexOf('\0') >= 0) {
            throw error(n, "contains a NUL character");
        }
        return s;
    }

    List<String> strings(Node parent, String key) throws SpecException {
        Node n = parent.map().get(key);
        if (n == null || n.value() == null) {
            return List.of();
        }
        if (!n.isList()) {
            throw error(n, "must be a list");
        }
        List<String> out = new ArrayList<>();
        for (Node e : n.list()) {
            if (!e.isScalar() || e.value() == null) {
                throw error(e, "must be a single value");
            }
            out.add((String) e.value());
        }
        return out;
    }

    boolean bool(Node parent, String key, boolean dflt) throws SpecException {
        String s = string(parent, key, false);
        if (s == null) {
            return dflt;
        }
        return switch (s) {
            case "true" -> true;
            case "false" -> false;
            default -> throw error(parent.map().get(key), "must be true or false, not '" + s + "'");
        };
    }

    Long number(Node parent, String key, long min, long max) throws SpecException {
        String s = string(parent, key, false);
        if (s == null) {
            return null;
        }
        try {
            long v = Long.parseLong(s);
            if (v < min || v > max) {
                throw error(parent.map().get(key), "must be between " + min + " and " + max + ", not " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(parent.map().get(key), "must be a whole number, not '" + s + "'");
        }
    }

    /** A path relative to the spec's directory (absolute paths stay as they are). */
    Path path(Node parent, String key, boolean required) throws SpecException {
        String s = string(parent, key, required);
        if (s == null) {
            return null;
        }
        if (s.isBlank()) {
            throw error(parent.map().get(key), "must not be empty");
        }
        Path base = file.toAbsolutePath().getParent();
        return base.resolve(s).normalize();
    }

    Node node(Node parent, String key) {
        return parent.map().get(key);
    }
}
