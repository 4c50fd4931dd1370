package io.sluice.core.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wait line of a pool with priority classes: a freed slot goes to the highest class with
 * waiters, and within a class round-robin over per-client FIFO lines, so one client's burst does not
 * stand ahead of everyone else (as llm-d's flow control: priority bands, fairness between flows in a
 * band, FIFO within a flow). Every request costs the same here, so plain round-robin is deficit
 * round-robin with a quantum of one request.
 *
 * <p>Thread-safe: one lock, held only for queue operations (event loops enqueue, and any loop that
 * frees a slot polls).
 */
public final class FairQueue {

    /** A queued request: its wake-up, its class and its client. */
    public static final class Waiter implements Runnable {
        final Runnable wake;
        final String cls;
        final String key;

        public Waiter(Runnable wake, String cls, String key) {
            this.wake = wake;
            this.cls = cls;
            this.key = key;
        }

        public String cls() {
            return cls;
        }

        public String key() {
            return key;
        }

        @Override
        public void run() {
            wake.run();
        }
    }

    private static final class Line {
        final String key;
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>(4);

        Line(String key) {
            this.key = key;
        }
    }

    private static final class Band {
        final ArrayDeque<Line> turn = new ArrayDeque<>(); // lines with waiters, next to serve first
        final Map<String, Line> lines = new HashMap<>();
        int size;
    }

    private final Map<String, Band> bands = new LinkedHashMap<>();
    private List<String> order;
    private int size;

    /** @param order the classes, highest first */
    public FairQueue(List<String> order) {
        this.order = List.copyOf(order);
    }

    /** A reload's new class order; waiters of a class no longer declared are served after all others. */
    public synchronized void order(List<String> next) {
        order = List.copyOf(next);
    }

    /** @return false when the waiter's client already holds {@code keyLimit} places */
    public synchronized boolean add(Waiter w, int keyLimit) {
        Band b = bands.computeIfAbsent(w.cls, c -> new Band());
        Line l = b.lines.get(w.key);
        if (l != null && l.waiters.size() >= keyLimit) {
            return false;
        }
        if (l == null) {
            l = new Line(w.key);
            b.lines.put(w.key, l);
            b.turn.addLast(l);
        }
        l.waiters.addLast(w);
        b.size++;
        size++;
        return true;
    }

    /** A waiter that woke but found no room: first in its line, and its line's turn comes next again. */
    public synchronized void addFirst(Waiter w) {
        Band b = bands.computeIfAbsent(w.cls, c -> new Band());
        Line l = b.lines.get(w.key);
        if (l == null) {
            l = new Line(w.key);
            b.lines.put(w.key, l);
        } else {
            b.turn.remove(l);
        }
        b.turn.addFirst(l);
        l.waiters.addFirst(w);
        b.size++;
        size++;
    }

    /** The next waiter to serve, or null. */
    public synchronized Waiter poll() {
        if (size == 0) {
            return null;
        }
        for (String c : order) {
            Band b = bands.get(c);
            if (b != null && b.size > 0) {
                return poll(b);
            }
        }
        for (Band b : bands.values()) { // classes a reload removed
            if (b.size > 0) {
                return poll(b);
            }
        }
        return null;
    }

    private Waiter poll(Band b) {
        Line l = b.turn.pollFirst();
        Waiter w = l.waiters.pollFirst();
        if (l.waiters.isEmpty()) {
            b.lines.remove(l.key);
        } else {
            b.turn.addLast(l);
        }
        b.size--;
        size--;
        return w;
    }

    /** A waiter that gave up; false if it was not queued. */
    public synchronized boolean remove(Waiter w) {
        Band b = bands.get(w.cls);
        Line l = b == null ? null : b.lines.get(w.key);
        if (l == null || !l.waiters.remove(w)) {
            return false;
        }
        if (l.waiters.isEmpty()) {
            b.lines.remove(l.key);
            b.turn.remove(l);
        }
        b.size--;
        size--;
        return true;
    }

    public synchronized int size() {
        return size;
    }

    /** Waiters per class, declared classes first (zero when empty), then any a reload removed. */
    public synchronized Map<String, Integer> sizes() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String c : order) {
            Band b = bands.get(c);
            out.put(c, b == null ? 0 : b.size);
        }
        bands.forEach((c, b) -> {
            if (!out.containsKey(c) && b.size > 0) {
                out.put(c, b.size);
            }
        });
        return out;
    }

    /** The clients in the order the class would serve them next (for tests and diagnostics). */
    synchronized List<String> turn(String cls) {
        List<String> out = new ArrayList<>();
        Band b = bands.get(cls);
        if (b != null) {
            b.turn.forEach(l -> out.add(l.key));
        }
        return out;
    }
}
