package io.sluice.core.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses byte sizes: {@code 512}, {@code 8KiB}, {@code 10MiB}, {@code 1GiB}, {@code 10MB} (decimal units too). */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kib|mib|gib|kb|mb|gb|k|m|g)?");

    private Sizes() {
    }

    /** @throws IllegalArgumentException with a message suitable for a config error */
    public static long parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (examples: 512, 16KiB, 10MiB, 1GB)");
        }
        String unit = m.group(2) == null ? "b" : m.group(2);
        try {
            long n = Long.parseLong(m.group(1));
            switch (unit) {
                case "kib": case "k": return Math.multiplyExact(n, 1024L);
                case "mib": case "m": return Math.multiplyExact(n, 1024L * 1024);
                case "gib": case "g": return Math.multiplyExact(n, 1024L * 1024 * 1024);
                case "kb": return Math.multiplyExact(n, 1000L);
                case "mb": return Math.multiplyExact(n, 1000L * 1000);
                case "gb": return Math.multiplyExact(n, 1000L * 1000 * 1000);
                default: return n;
            }
        } catch (ArithmeticException | NumberFormatException e) { // NumberFormatException: more digits than a long
            throw new IllegalArgumentException("'" + text + "' is too large a size");
        }
    }
}
