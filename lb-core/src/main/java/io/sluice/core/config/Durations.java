package io.sluice.core.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as ops write them: {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1m30s}. */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|us|s|m|h|d)");

    private Durations() {
    }

    /** @throws IllegalArgumentException with a message suitable for a config error */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        try {
            while (at < s.length() && m.find(at) && m.start() == at) {
                long n = Long.parseLong(m.group(1));
                switch (m.group(2)) {
                    case "us": total = total.plusNanos(Math.multiplyExact(n, 1_000L)); break;
                    case "ms": total = total.plusMillis(n); break;
                    case "s": total = total.plusSeconds(n); break;
                    case "m": total = total.plusMinutes(n); break;
                    case "h": total = total.plusHours(n); break;
                    default: total = total.plusDays(n); break;
                }
                at = m.end();
            }
        } catch (ArithmeticException | NumberFormatException e) { // NumberFormatException: more digits than a long
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
        if (at == 0 || at != s.length()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 250ms, 5s, 2m, 1h30m)");
        }
        return total;
    }

    /** The shortest exact form, for logs and JSON: {@code 5s}, {@code 250ms}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
