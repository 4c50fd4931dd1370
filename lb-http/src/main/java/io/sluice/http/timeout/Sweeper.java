package io.sluice.http.timeout;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Checks the armed {@link Watch}es of one event loop at a fixed tick: one scheduled task per loop
 * rather than one per connection and request. A timeout fires between its deadline and one tick
 * after it; the tick is an eighth of the shortest timeout armed, between 5 ms and 500 ms, and
 * grows back once the watch that needed a finer one is gone.
 *
 * <p>Watches form a singly linked list. Disarming only clears a flag; the sweep unlinks disarmed
 * watches as it passes, so a check that closes channels (and so disarms other watches) never
 * changes the list under the sweep.
 */
public final class Sweeper implements Runnable {
    private static final long MIN_TICK = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long MAX_TICK = TimeUnit.MILLISECONDS.toNanos(500);
    private static final FastThreadLocal<Sweeper> PER_LOOP = new FastThreadLocal<>();

    private final EventExecutor loop;
    private Watch head;
    private Watch tail;
    private long tickNanos = MAX_TICK;
    private ScheduledFuture<?> task;
    private boolean sweeping;
    private long armedWhileSweeping = Long.MAX_VALUE; // finest tick asked for by a check's re-arm

    private Sweeper(EventExecutor loop) {
        this.loop = loop;
    }

    /** The sweeper of the calling event loop thread. */
    public static Sweeper of(EventExecutor loop) {
        assert loop.inEventLoop();
        Sweeper s = PER_LOOP.get();
        if (s == null || s.loop != loop) {
            s = new Sweeper(loop);
            PER_LOOP.set(s);
        }
        return s;
    }

    /**
     * Arms {@code w}; {@code timeoutNanos} is the shortest timeout it will check, so that the tick
     * is fine enough for it.
     */
    public void arm(Watch w, long timeoutNanos) {
        boolean wasArmed = w.armed;
        w.armed = true;
        if (!w.linked) {
            w.linked = true;
            w.next = null;
            if (tail == null) {
                head = w;
            } else {
                tail.next = w;
            }
            tail = w;
        }
        long tick = Math.max(MIN_TICK, Math.min(MAX_TICK, timeoutNanos / 8));
        w.tickNanos = wasArmed ? Math.min(w.tickNanos, tick) : tick;
        if (sweeping) {
            armedWhileSweeping = Math.min(armedWhileSweeping, w.tickNanos); // the sweep may already have passed it
        }
        if (task == null || tick < tickNanos) {
            tickNanos = task == null ? tick : Math.min(tickNanos, tick);
            schedule();
        }
    }

    /** The current tick: the finest any armed watch asked for at the last sweep or since. */
    long tickNanos() {
        return tickNanos;
    }

    public static void disarm(Watch w) {
        w.armed = false;
    }

    private void schedule() {
        if (task != null) {
            task.cancel(false);
        }
        try {
            task = loop.scheduleAtFixedRate(this, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            task = null; // the loop is shutting down: its channels are being closed anyway
        }
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        long finest = MAX_TICK;
        Watch prev = null;
        Watch w = head;
        sweeping = true;
        try {
            while (w != null) {
                Watch next = w.next;
                if (w.armed) {
                    w.check(now);
                    prev = w;
                    finest = Math.min(finest, w.tickNanos);
                } else {
                    w.linked = false;
                    w.next = null;
                    if (prev == null) {
                        head = next;
                    } else {
                        prev.next = next;
                    }
                    if (w == tail) {
                        tail = prev;
                    }
                }
                w = next;
            }
        } finally {
            sweeping = false;
        }
        finest = Math.min(finest, armedWhileSweeping);
        armedWhileSweeping = Long.MAX_VALUE;
        if (head == null && task != null) {
            task.cancel(false); // nothing to watch: an idle loop does not wake up for us
            task = null;
        } else if (head != null && finest != tickNanos) {
            // The watch that needed a finer tick is gone, or a check re-armed one it had passed finer.
            tickNanos = finest;
            schedule();
        }
    }
}
