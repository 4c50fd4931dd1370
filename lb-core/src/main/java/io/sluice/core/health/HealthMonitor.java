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
        scheduled.put(backend, scheduler.schedule(() -> runProbe(backend, config, token), delayMillis, TimeUnit.MILLISECONDS));
    }

    private void runProbe(Backend backend, HealthConfig config, Object token) {
        if (closed || watched.get(backend) != token) {
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
            HealthProbe.Result r = error != null ? HealthProbe.Result.failed(error.toString()) : result;
            if (r.conclusive()) {
                record(backend, config, r, (System.nanoTime() - start) / 1000);
            } else {
                log.warn("health check of {} skipped: {}", backend, r.detail());
            }
            if (watched.get(backend) == token) {
                schedule(backend, config, token, config.interval().toMillis());
            }
        });
    }

    /** Applies one probe result to the backend's state; public for tests of the hysteresis. */
    public static void record(Backend backend, HealthConfig config, HealthProbe.Result r, long latencyMicros) {
        backend.recordHealth(new HealthResult(r.ok(), r.detail(), latencyMicros, System.currentTimeMillis()),
                config.rise(), config.fall());
    }

    @Override
    public void close() {
        closed = true;
        watched.clear();
        scheduled.values().forEach(f -> f.cancel(false));
        scheduled.clear();
    }
}
