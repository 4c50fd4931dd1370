package io.sluice.core.health;

import io.sluice.core.backend.Backend;
import io.sluice.core.backend.Backend.HealthResult;
import io.sluice.core.config.HealthConfig;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks with rise/fall hysteresis.
 *
 * <p>Each backend is probed once at start and then {@code interval} after the previous probe ended,
 * so a slow backend is never probed twice at once. A healthy backend goes down after {@code fall}
 * consecutive failures; an unhealthy one comes back after {@code rise} consecutive successes.
 * Each change is logged once by {@link Backend}.
 */
public final class HealthMonitor implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HealthMonitor.class);

    private final ScheduledExecutorService scheduler;
    private final HealthProbe probe;
    private final Map<Backend, ScheduledFuture<?>> scheduled = new ConcurrentHashMap<>();
    /**
     * The backends being watched, each with a token for its current chain of probes. A probe goes on
     * only while its token is current: checking the futures map instead raced with a probe scheduled
     * so soon that it ran before its future was put there (it then stopped for good), and a re-watch
     * must not leave two chains running.
     */
    private final Map<Backend, Object> watched = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Probes started and not yet ended; {@link #close} waits for zero. Guarded by {@code this} for wait/notify. */
    private int inProgress;
    private volatile long longestTimeoutMillis = 1000;

    public HealthMonitor(ScheduledExecutorService scheduler, HealthProbe probe) {
        this.scheduler = scheduler;
        this.probe = probe;
    }

    /** Starts checking the backend; the first probe runs within a few milliseconds. */
    public void watch(Backend backend, HealthConfig config) {
        if (!config.enabled()) {
            return;
        }
        Object token = new Object();
        watched.put(backend, token);
        longestTimeoutMillis = Math.max(longestTimeoutMillis, config.timeout().toMillis());
        // A little jitter so the backends of a large pool are not probed in lockstep.
        schedule(backend, config, token, ThreadLocalRandom.current().nextLong(1, 20));
    }

    public void unwatch(Backend backend) {
        watched.remove(backend);
        ScheduledFuture<?> f = scheduled.remove(backend);
        if (f != null) {
            f.cancel(false);
        }
    }

    private void schedule(Backend backend, HealthConfig config, Object token, long delayMillis) {
        if (closed) {
            return;
        }
        try {
            scheduled.put(backend, scheduler.schedule(() -> runProbe(backend, config, token), delayMillis, TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the scheduler's event loop is shutting down: so is the gateway
        }
    }

    private void runProbe(Backend backend, HealthConfig config, Object token) {
        // Counted before the closed check, so close() either sees this probe or this probe sees close().
        synchronized (this) {
            inProgress++;
        }
        if (closed || watched.get(backend) != token) {
            ended();
            return;
        }
        long start = System.nanoTime();
        CompletionStage<HealthProbe.Result> check;
        try {
            check = probe.probe(backend, config);
        } catch (RuntimeException e) {
            // A check that cannot even start must not end the checking of this backend for good.
            check = CompletableFuture.completedFuture(HealthProbe.Result.inconclusive("check did not start: " + e));
        }
        check.whenComplete((result, error) -> {
            try {
                HealthProbe.Result r = error != null ? HealthProbe.Result.failed(error.toString()) : result;
                if (closed) {
                    return; // a probe cut short by the shutdown says nothing about the backend
                }
                if (r.conclusive()) {
                    record(backend, config, r, (System.nanoTime() - start) / 1000);
                } else {
                    log.warn("health check of {} skipped: {}", backend, r.detail());
                }
                if (watched.get(backend) == token) {
                    schedule(backend, config, token, config.interval().toMillis());
                }
            } finally {
                ended();
            }
        });
    }

    private synchronized void ended() {
        if (--inProgress == 0) {
            notifyAll();
        }
    }

    /** Probes running now (their connections not yet closed). */
    public synchronized int probesInProgress() {
        return inProgress;
    }

    /** Applies one probe result to the backend's state; public for tests of the hysteresis. */
    public static void record(Backend backend, HealthConfig config, HealthProbe.Result r, long latencyMicros) {
        backend.recordHealth(new HealthResult(r.ok(), r.detail(), latencyMicros, System.currentTimeMillis()),
                config.rise(), config.fall());
    }

    /**
     * Stops the checks and waits until the probes in progress have ended (each ends within its
     * timeout), so that the event loops they use can be shut down with no probe writing on them.
     * Must not be called from such a loop.
     */
    @Override
    public void close() {
        closed = true;
        watched.clear();
        scheduled.values().forEach(f -> f.cancel(false));
        scheduled.clear();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(longestTimeoutMillis + 1000);
        synchronized (this) {
            while (inProgress > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    log.warn("{} health check(s) still running at shutdown", inProgress);
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
