package io.sluice.http.files;

/**
 * A {@code Range: bytes=...} header (RFC 9110 §14). Only single ranges are served: a list of ranges,
 * another unit or a malformed value is ignored (the whole file, 200), which the RFC allows.
 */
final class Ranges {
    /** The range cannot be satisfied: 416. */
    static final long[] UNSATISFIABLE = new long[0];

    private Ranges() {
    }

    /** @return {first, last} (inclusive), {@link #UNSATISFIABLE}, or null to ignore the header */
    static long[] single(String header, long size) {
        String v = header.trim();
        if (v.length() < 6 || !v.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = v.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            return null; // several ranges: answered with the whole file
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) { // the last b bytes
                if (b.isEmpty()) {
                    return null;
                }
                long n = Long.parseLong(b);
                if (n < 0) {
                    return null;
                }
                if (n == 0 || size == 0) {
                    return UNSATISFIABLE;
                }
                return new long[] {Math.max(0, size - n), size - 1};
            }
            long first = Long.parseLong(a);
            if (first < 0) {
                return null;
            }
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (last < first) {
                return null; // invalid: ignored
            }
            if (first >= size) {
                return UNSATISFIABLE;
            }
            return new long[] {first, Math.min(last, size - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
