package io.sluice.http;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: every line must be a HELP, TYPE
 * or sample line; a family is declared once, before its samples, and its samples are contiguous.
 */
final class PromText {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"(,|$)");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "summary", "histogram", "untyped");

    /** Sample key {@code name{a="x",b="y"}} (labels in written order) to value. */
    final Map<String, Double> samples = new LinkedHashMap<>();
    final Map<String, String> types = new HashMap<>();

    static PromText parse(String text) {
        PromText p = new PromText();
        Set<String> closed = new HashSet<>();
        String current = null;
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ", 4);
                require(parts.length >= 4 && NAME.matcher(parts[2]).matches(), n, line);
                if (line.startsWith("# TYPE ")) {
                    require(TYPES.contains(parts[3]), n, "bad type: " + line);
                    require(p.types.put(parts[2], parts[3]) == null, n, "family declared twice: " + line);
                    if (current != null && !current.equals(parts[2])) {
                        closed.add(current);
                    }
                    current = parts[2];
                }
                continue;
            }
            require(!line.startsWith("#"), n, line);
            Matcher m = SAMPLE.matcher(line);
            require(m.matches(), n, "not a sample: " + line);
            String name = m.group(1);
            String family = familyOf(name, p.types);
            require(family != null, n, "sample before its TYPE: " + line);
            require(family.equals(current) && !closed.contains(family), n, "family not contiguous: " + line);
            if (m.group(3) != null && !m.group(3).isEmpty()) {
                Matcher l = LABEL.matcher(m.group(3));
                int end = 0;
                while (l.find() && l.start() == end) {
                    end = l.end();
                }
                require(end == m.group(3).length(), n, "bad labels: " + line);
            }
            String v = m.group(4);
            double value = v.equals("+Inf") ? Double.POSITIVE_INFINITY : v.equals("-Inf") ? Double.NEGATIVE_INFINITY
                    : v.equals("NaN") ? Double.NaN : Double.parseDouble(v);
            require(p.samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), value) == null, n, "duplicate sample: " + line);
        }
        return p;
    }

    private static String familyOf(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : new String[] {"_sum", "_count", "_bucket"}) {
            if (sample.endsWith(suffix) && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
                return sample.substring(0, sample.length() - suffix.length());
            }
        }
        return null;
    }

    private static void require(boolean ok, int line, String what) {
        if (!ok) {
            throw new AssertionError("line " + line + ": " + what);
        }
    }

    double value(String key) {
        Double v = samples.get(key);
        if (v == null) {
            throw new AssertionError("no sample " + key + " in " + samples.keySet());
        }
        return v;
    }

    /** Sum over all samples of a metric name whose key contains every given fragment. */
    double sum(String name, String... fragments) {
        double s = 0;
        outer:
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            if (!e.getKey().equals(name) && !e.getKey().startsWith(name + "{")) {
                continue;
            }
            for (String f : fragments) {
                if (!e.getKey().contains(f)) {
                    continue outer;
                }
            }
            s += e.getValue();
        }
        return s;
    }
}
