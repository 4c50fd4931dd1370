package io.sluice.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.sluice.core.config.ConfigException.Problem;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * A YAML document as a small tree in which every node (and every mapping key) keeps its line and
 * column, so that semantic errors found while binding can point at the text, which databind cannot.
 */
final class YamlTree {
    private static final YAMLFactory YAML = new YAMLFactory();

    sealed interface Node permits MapNode, ListNode, Scalar {
        int line();

        int column();
    }

    /** Entries in file order. */
    record MapNode(Map<String, Entry> entries, int line, int column) implements Node {
    }

    /** A key, where the key itself was written, and its value. */
    record Entry(String key, int line, int column, Node value) {
    }

    record ListNode(List<Node> items, int line, int column) implements Node {
    }

    /** The scalar's text as written (before substitution); null for YAML null ({@code key:}, {@code ~}). */
    record Scalar(String text, int line, int column) implements Node {
    }

    private YamlTree() {
    }

    /**
     * The document's root, or null for an empty document. Non-fatal problems (duplicate keys, aliases)
     * go to {@code problems}; a syntax error ends reading with a ConfigException.
     */
    static Node read(String yaml, String source, List<Problem> problems) throws ConfigException {
        try (YAMLParser p = YAML.createParser(yaml)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return null;
            }
            Node root = node(p, t, "", source, problems);
            if (p.nextToken() != null) {
                JsonLocation at = p.currentTokenLocation();
                problems.add(new Problem(source, at.getLineNr(), at.getColumnNr(), "", "only one YAML document is allowed"));
            }
            return root;
        } catch (JsonProcessingException e) {
            problems.add(syntaxError(e, source));
            throw new ConfigException(problems, e);
        } catch (IOException e) { // reading a String: cannot happen
            throw new IllegalStateException(e);
        }
    }

    private static Node node(YAMLParser p, JsonToken t, String path, String source, List<Problem> problems)
            throws IOException {
        JsonLocation at = p.currentTokenLocation();
        int line = at.getLineNr();
        int column = at.getColumnNr();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                JsonLocation k = p.currentTokenLocation();
                String key = p.currentName();
                String sub = path.isEmpty() ? key : path + "." + key;
                Entry e = new Entry(key, k.getLineNr(), k.getColumnNr(), node(p, p.nextToken(), sub, source, problems));
                Entry first = entries.putIfAbsent(key, e);
                if (first != null) {
                    problems.add(new Problem(source, e.line(), e.column(), sub,
                            "duplicate key '" + key + "' (first at line " + first.line() + ")"));
                }
            }
            return new MapNode(Collections.unmodifiableMap(entries), line, column);
        }
        if (t == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            for (JsonToken i = p.nextToken(); i != JsonToken.END_ARRAY; i = p.nextToken()) {
                items.add(node(p, i, path + "[" + items.size() + "]", source, problems));
            }
            return new ListNode(List.copyOf(items), line, column);
        }
        if (p.isCurrentAlias()) {
            problems.add(new Problem(source, line, column, path, "YAML aliases (*" + p.getText() + ") are not supported"));
            return new Scalar(null, line, column);
        }
        return new Scalar(t == JsonToken.VALUE_NULL ? null : p.getText(), line, column);
    }

    /** Prefers SnakeYAML's own marks: Jackson's location for scanner errors often points elsewhere. */
    private static Problem syntaxError(JsonProcessingException e, String source) {
        if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null) {
            String context = m.getContext() == null ? ""
                    : " " + m.getContext() + (m.getContextMark() == null ? ""
                            : " started at line " + (m.getContextMark().getLine() + 1) + ", column " + (m.getContextMark().getColumn() + 1));
            return new Problem(source, m.getProblemMark().getLine() + 1, m.getProblemMark().getColumn() + 1, "",
                    "YAML syntax error: " + m.getProblem() + context);
        }
        JsonLocation at = e.getLocation();
        return new Problem(source, at == null ? 0 : at.getLineNr(), at == null ? 0 : at.getColumnNr(), "",
                "YAML syntax error: " + e.getOriginalMessage());
    }
}
