package io.sluice.core.observe;

import io.sluice.core.config.Durations;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;

/**
 * Lets the first occurrence of a kind of log line through per interval and counts the rest, so an
 * overload that answers thousands of 503s a second writes a few lines, not thousands: each line let
 * through after a quiet spell says how many like it were left out ("(1234 more like this in the 10s
 * after the previous one)").
 *
 * <p>Lock-free (a compare-and-set per line let through, an increment per line left out) and bounded:
 * at most {@code maxKeys} kinds are told apart, claimed on first use and never removed; further kinds
 * share one overflow slot, and so one interval. Keys should be few and stable (a reason code, a pool).
 * A count that races with the line that ends an interval goes into the next summary; none is lost.
 */
public final class LogThrottle {
    private static final long NEVER = Long.MIN_VALUE;

    private final long intervalNanos;
    private final String summarySuffix;
    private final LongSupplier nanoClock;
    private final AtomicReferenceArray<Slot> slots;
    private final Slot overflow = new Slot("");

    public LogThrottle(Duration interval, int maxKeys) {
        this(interval, maxKeys, System::nanoTime);
    }

    /** @param nanoClock {@link System#nanoTime()} or a test's clock */
    public LogThrottle(Duration interval, int maxKeys, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.summarySuffix = " more like this in the " + Durations.format(interval) + " after the previous one)";
        this.nanoClock = nanoClock;
        this.slots = new AtomicReferenceArray<>(maxKeys);
    }

    /**
     * @return -1 when this occurrence of {@code key} should not be logged; otherwise how many
     *         occurrences were left out since the last one that was (0 the first time)
     */
    public long admit(String key) {
        Slot s = slot(key);
        long now = nanoClock.getAsLong();
        long start = s.windowStart.get();
        if ((start == NEVER || now - start >= intervalNanos) && s.windowStart.compareAndSet(start, now)) {
            return s.suppressed.getAndSet(0);
        }
        s.suppressed.incrementAndGet();
        return -1;
    }

    /** What to append to a line {@link #admit} let through: empty, or the count of the ones left out. */
    public String summary(long suppressed) {
        return suppressed <= 0 ? "" : " (" + suppressed + summarySuffix;
    }

    private Slot slot(String key) {
        for (int i = 0, n = slots.length(); i < n; i++) {
            Slot s = slots.get(i);
            if (s == null) {
                Slot mine = new Slot(key);
                if (slots.compareAndSet(i, null, mine)) {
                    return mine;
                }
                s = slots.get(i); // another thread claimed it first, maybe for this very key
            }
            if (s.key.equals(key)) {
                return s;
            }
        }
        return overflow;
    }

    private static final class Slot {
        final String key;
        final AtomicLong windowStart = new AtomicLong(NEVER);
        final AtomicLong suppressed = new AtomicLong();

        Slot(String key) {
            this.key = key;
        }
    }
}
