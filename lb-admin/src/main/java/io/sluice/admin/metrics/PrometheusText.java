package io.sluice.admin.metrics;

import java.util.Locale;

/**
 * Writes the Prometheus text exposition format (version 0.0.4): {@code # HELP}, {@code # TYPE},
 * then one line per sample, label values escaped. Each family is written in one piece, as the format requires.
 */
final class PrometheusText {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder(8192);

    PrometheusText family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** @param labels name, value, name, value, … */
    PrometheusText sample(String name, double value, String... labels) {
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"");
                escape(labels[i + 1] == null ? "" : labels[i + 1]);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ').append(format(value)).append('\n');
        return this;
    }

    /** A summary in seconds from a latency in microseconds: quantiles, then _sum and _count. */
    PrometheusText summary(String name, String help, Latency.Snapshot s) {
        family(name, "summary", help);
        sample(name, s.p50() / 1e6, "quantile", "0.5");
        sample(name, s.p90() / 1e6, "quantile", "0.9");
        sample(name, s.p99() / 1e6, "quantile", "0.99");
        sample(name, s.max() / 1e6, "quantile", "1");
        sample(name + "_sum", s.sumMicros() / 1e6);
        sample(name + "_count", s.count());
        return this;
    }

    private void escape(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    static String format(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
