package io.sluice.core.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class LogThrottleTest {
    static final long SECOND = 1_000_000_000L;
    final AtomicLong now = new AtomicLong(42 * SECOND);
    final LogThrottle throttle = new LogThrottle(Duration.ofSeconds(10), 4, now::get);

    @Test
    void firstPerIntervalThenACountOfTheRest() {
        assertEquals(0, throttle.admit("no_healthy_backend"), "the first one is logged");
        for (int i = 0; i < 199; i++) {
            now.addAndGet(SECOND / 100);
            assertEquals(-1, throttle.admit("no_healthy_backend"));
        }
        now.set(42 * SECOND + 10 * SECOND - 1);
        assertEquals(-1, throttle.admit("no_healthy_backend"), "still inside the interval");
        now.set(52 * SECOND);
        long left = throttle.admit("no_healthy_backend");
        assertEquals(200, left);
        assertEquals(" (200 more like this in the 10s after the previous one)", throttle.summary(left));
        assertEquals("", throttle.summary(0));
        now.addAndGet(60 * SECOND);
        assertEquals(0, throttle.admit("no_healthy_backend"), "after a quiet spell, nothing to report");
    }

    @Test
    void keysHaveTheirOwnIntervalsUpToTheLimitThenShareOne() {
        assertEquals(0, throttle.admit("a"));
        assertEquals(0, throttle.admit("b"), "another kind of line is not held back by the first");
        assertEquals(-1, throttle.admit("a"));
        assertEquals(0, throttle.admit("c"));
        assertEquals(0, throttle.admit("d"));
        assertEquals(0, throttle.admit("e"), "past maxKeys: the overflow slot");
        assertEquals(-1, throttle.admit("f"), "which the further kinds share");
        now.addAndGet(10 * SECOND);
        assertEquals(1, throttle.admit("e"));
        assertEquals(1, throttle.admit("a"));
    }

    @Test
    void concurrentCallersLoseNoCount() throws Exception {
        LogThrottle t = new LogThrottle(Duration.ofSeconds(10), 4, now::get);
        int threads = 4;
        int each = 10_000;
        LongAdder logged = new LongAdder();
        CountDownLatch start = new CountDownLatch(1);
        java.util.concurrent.atomic.LongAdder reported = new java.util.concurrent.atomic.LongAdder();
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            ts[i] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < each; k++) {
                    long left = t.admit("k");
                    if (left >= 0) {
                        logged.increment();
                        reported.add(left); // may include callers that raced with the line that opened the window
                    }
                }
            });
            ts[i].start();
        }
        start.countDown();
        for (Thread th : ts) {
            th.join();
        }
        assertEquals(1, logged.sum(), "one line per interval, however many threads");
        now.addAndGet(10 * SECOND);
        assertEquals(threads * each - 1, reported.sum() + t.admit("k"), "every occurrence left out is counted once");
    }
}
