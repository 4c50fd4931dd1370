package io.sluice.core.pool;

import io.sluice.core.backend.Backend;
import io.sluice.core.balance.Balancer;
import io.sluice.core.config.PoolConfig;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A named set of backends and the policy that spreads requests over them. */
public final class BackendPool {
    private volatile PoolConfig config; // replaced by a reload; read per request
    private final Balancer balancer;
    // Copy-on-write: read on every request, changed only by admin actions and reloads.
    private final List<Backend> backends = new CopyOnWriteArrayList<>();

    public BackendPool(PoolConfig config, List<Backend> backends) {
        this.config = config;
        this.balancer = Balancer.named(config.balancer());
        this.backends.addAll(backends);
    }

    public String name() {
        return config.name();
    }

    public PoolConfig config() {
        return config;
    }

    /**
     * Takes new settings from a reloaded config (timeouts, health); the backend list is reconciled
     * separately. The balancer is kept: least-connections is the only one.
     */
    public void reconfigure(PoolConfig next) {
        if (!next.name().equals(config.name())) {
            throw new IllegalArgumentException("pool " + config.name() + " cannot become " + next.name());
        }
        config = next;
    }

    public List<Backend> backends() {
        return backends;
    }

    /** @return the backend for a new request, or null when none is healthy and enabled */
    public Backend choose() {
        return balancer.choose(backends);
    }

    /** Backends that may take new requests: healthy and not draining. */
    public int availableCount() {
        int n = 0;
        for (Backend b : backends) {
            if (b.isAvailable()) {
                n++;
            }
        }
        return n;
    }

    public int healthyCount() {
        int n = 0;
        for (Backend b : backends) {
            if (b.isHealthy()) {
                n++;
            }
        }
        return n;
    }
}
