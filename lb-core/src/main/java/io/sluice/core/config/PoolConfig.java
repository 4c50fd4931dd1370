package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A set of interchangeable upstream backends that routes send requests to.
 *
 * @param responseTimeout   time until the upstream response head; long, because a prefill can take minutes
 * @param maxIdlePerBackend idle keep-alive upstream connections kept per backend per event loop
 */
public record PoolConfig(String name, String balancer, Duration connectTimeout, Duration responseTimeout,
                         int maxIdlePerBackend, HealthConfig health, List<BackendConfig> backends) {
    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(balancer, "balancer");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(health, "health");
        backends = List.copyOf(backends);
    }
}
