package io.sluice.http.manage;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminException;
import io.sluice.admin.backend.BackendManager;
import io.sluice.core.backend.Backend;
import io.sluice.core.health.HealthMonitor;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.pool.Upstreams;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds and removes backends of the running gateway.
 *
 * <p>Removal drains: the backend is marked draining (the balancer skips it), then its in-flight
 * count is polled on the scheduler until it reaches zero or the drain timeout passes. Requests still
 * running at that point are not cut: their connections are independent of pool membership.
 */
public final class RuntimeBackends implements BackendManager {
    private static final Logger log = LoggerFactory.getLogger(RuntimeBackends.class);
    private static final long POLL_MILLIS = 25;

    private final Upstreams upstreams;
    private final HealthMonitor health;
    private final ScheduledExecutorService scheduler;
    private final Supplier<Duration> drainTimeout;

    public RuntimeBackends(Upstreams upstreams, HealthMonitor health, ScheduledExecutorService scheduler,
                           Supplier<Duration> drainTimeout) {
        this.upstreams = upstreams;
        this.health = health;
        this.scheduler = scheduler;
        this.drainTimeout = drainTimeout;
    }

    @Override
    public Backend add(String poolName, String name, String host, int port, int weight) {
        return add(poolName, name, host, port, weight, false);
    }

    /** @param tls an {@code https://} backend (a {@code dns:} entry with that scheme) */
    public synchronized Backend add(String poolName, String name, String host, int port, int weight, boolean tls) {
        BackendPool pool = upstreams.pool(poolName);
        if (pool == null) {
            throw new AdminException(HttpResponseStatus.NOT_FOUND, "pool_not_found", "no pool named '" + poolName + "'");
        }
        for (Backend b : pool.backends()) {
            if (b.id().equals(name) || (b.host().equals(host) && b.port() == port)) {
                throw new AdminException(HttpResponseStatus.CONFLICT, "backend_exists", "pool '" + poolName
                        + "' already has backend '" + b.id() + "' at " + b.host() + ":" + b.port());
            }
        }
        Backend b = new Backend(name, poolName, host, port, weight, tls);
        if (pool.config().health().enabled()) {
            // Traffic only once the health check has passed `rise` times: a new server may still be loading.
            b.markDown("added; waiting for health checks");
        }
        pool.add(b);
        health.watch(b, pool.config().health());
        log.info("pool {}: backend {} added at {}:{}", poolName, name, host, port);
        return b;
    }

    @Override
    public CompletionStage<Integer> remove(Backend b) {
        b.setDraining(true);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + drainTimeout.get().toNanos();
        poll(b, deadline, done);
        return done;
    }

    private void poll(Backend b, long deadline, CompletableFuture<Integer> done) {
        int left = b.inFlight();
        if (left == 0 || System.nanoTime() - deadline > 0) {
            detach(b, left);
            done.complete(left);
            return;
        }
        try {
            scheduler.schedule(() -> poll(b, deadline, done), POLL_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            done.completeExceptionally(e); // shutting down
        }
    }

    /** Takes a backend out of its pool for good (also used for backends whose process was stopped). */
    public synchronized void detach(Backend b, int inFlight) {
        BackendPool pool = upstreams.pool(b.pool());
        if (pool != null) {
            pool.remove(b);
        }
        health.unwatch(b);
        upstreams.forget(b);
        if (inFlight == 0) {
            log.info("pool {}: backend {} removed after draining", b.pool(), b.id());
        } else {
            log.warn("pool {}: backend {} removed with {} request(s) still in flight (drain timeout)", b.pool(), b.id(), inFlight);
        }
    }
}
