package io.sluice.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.HealthConfig;
import io.sluice.core.config.OutlierConfig;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.RetryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The in-flight limit holds under contention, and a queued request is never forgotten. */
class BackendPoolConcurrencyTest {
    static final int THREADS = 8;

    static BackendPool pool(int maxInFlight, int queueSize, Backend... backends) {
        PoolConfig c = new PoolConfig("p", "least-connections", Duration.ofSeconds(1), Duration.ofSeconds(1), 8,
                new HealthConfig(false, "/health", Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1), List.of(),
                Duration.ofSeconds(1), Duration.ZERO, RetryConfig.DEFAULT, OutlierConfig.DEFAULT,
                maxInFlight, queueSize, Duration.ofSeconds(1));
        return new BackendPool(c, List.of(backends));
    }

    static Backend backend(String id) {
        return new Backend(id, "p", "127.0.0.1", 1, 1);
    }

    /** Runs {@code body} on {@link #THREADS} threads released at the same instant. */
    static void race(ThrowingRunnable body) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(THREADS);
        try {
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                fs.add(ex.submit(() -> {
                    start.await();
                    body.run();
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            ex.shutdownNow();
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void tryLeaseNeverLetsMoreThanMaxInFlight() throws Exception {
        Backend b = backend("a");
        int max = 2;
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        race(() -> {
            for (int i = 0; i < 200_000; i++) {
                Backend.Lease l = b.tryLease(max);
                if (l == null) {
                    continue;
                }
                granted.incrementAndGet();
                int h = holders.incrementAndGet(); // holders never outnumber the in-flight count
                most.accumulateAndGet(Math.max(h, b.inFlight()), Math::max);
                holders.decrementAndGet();
                l.release();
            }
        });
        assertTrue(most.get() <= max, "at most " + max + " in flight, saw " + most.get());
        assertTrue(granted.get() > 0);
        assertEquals(0, b.inFlight());
        assertEquals(granted.get(), b.requests(), "a refused tryLease counts no request");
    }

    @Test
    void thePoolsChoiceHoldsTheLimitOnEveryBackendUnderContention() throws Exception {
        Backend a = backend("a");
        Backend b = backend("b");
        BackendPool pool = pool(1, 0, a, b);
        AtomicInteger onA = new AtomicInteger();
        AtomicInteger onB = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        race(() -> {
            for (int i = 0; i < 200_000; i++) {
                Backend.Lease l = pool.lease(null);
                if (l == null) {
                    continue;
                }
                AtomicInteger mine = l.backend() == a ? onA : onB;
                most.accumulateAndGet(mine.incrementAndGet(), Math::max);
                mine.decrementAndGet();
                l.release();
            }
        });
        assertEquals(1, most.get(), "never two requests at once on a backend with max-in-flight 1");
        assertEquals(0, a.inFlight() + b.inFlight());
    }

    @Test
    void aRetryIsNeverLeasedOnAnExcludedBackend() {
        Backend a = backend("a");
        Backend b = backend("b");
        BackendPool pool = pool(0, 0, a, b);
        for (int i = 0; i < 100; i++) {
            Backend.Lease l = pool.lease(List.of(a));
            assertNotNull(l);
            assertEquals(b, l.backend());
            l.release();
        }
        assertNull(pool.lease(List.of(a, b)));
    }

    /**
     * The interleaving that lost a request: it finds every backend full, the one running request
     * ends (nobody is queued, so its release wakes nobody), and only then is the request queued.
     */
    @Test
    void aSlotFreedBetweenTheFullCheckAndTheEnqueueStillWakesTheWaiter() {
        Backend a = backend("a");
        BackendPool pool = pool(1, 4, a);
        Backend.Lease running = pool.lease(null);
        assertNotNull(running);
        assertNull(pool.lease(null));
        assertTrue(pool.allFull(), "the caller decides to queue");

        running.release(); // the slot frees here, before the caller has queued
        AtomicInteger woken = new AtomicInteger();
        assertTrue(pool.enqueue(woken::incrementAndGet));
        assertEquals(1, woken.get(), "queued after the release: the pool's re-check wakes it");
        assertEquals(0, pool.queued());
    }

    @Test
    void aWaiterRequeuedAfterLosingTheRaceIsWokenWhenTheSlotFreesAgain() {
        Backend a = backend("a");
        BackendPool pool = pool(1, 4, a);
        Backend.Lease other = pool.lease(null); // took the slot the waiter was woken for
        AtomicInteger woken = new AtomicInteger();
        Runnable w = woken::incrementAndGet;
        other.release(); // ...and gave it back before the waiter went back to the front
        pool.requeueFirst(w);
        assertEquals(1, woken.get());
    }

    /**
     * The request protocol of the proxy (lease, else queue and wait for a wake-up, then try again),
     * hammered by many threads on one single-slot backend: every request must get its turn. A
     * request whose wake-up never came would sit in the queue for good; here it fails the test
     * after a bounded wait instead.
     */
    @Test
    void underContentionEveryQueuedRequestIsServed() throws Exception {
        Backend a = backend("a");
        BackendPool pool = pool(1, 1_000, a);
        int perThread = 5_000;
        AtomicInteger served = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        race(() -> {
            for (int i = 0; i < perThread; i++) {
                Semaphore wake = new Semaphore(0);
                Runnable waker = wake::release;
                while (true) {
                    Backend.Lease l = pool.lease(null);
                    if (l != null) {
                        served.incrementAndGet();
                        l.release();
                        break;
                    }
                    if (!pool.allFull()) {
                        continue; // freed meanwhile: try again at once
                    }
                    assertTrue(pool.enqueue(waker), "the queue is large enough");
                    if (!wake.tryAcquire(5, TimeUnit.SECONDS)) {
                        if (pool.dequeue(waker)) {
                            lost.incrementAndGet(); // still queued, nobody coming
                            return;
                        }
                        wake.acquire(); // woken just now
                    }
                }
            }
        });
        assertEquals(0, lost.get(), "requests left in the queue with a free slot");
        assertEquals(THREADS * perThread, served.get());
        assertEquals(0, pool.queued());
        assertFalse(pool.allFull());
    }
}
