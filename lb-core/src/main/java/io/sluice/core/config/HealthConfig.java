package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Active health checking of a pool's backends: {@code GET path} every {@code interval}.
 *
 * @param timeout less than {@code interval}, so that probes of one backend never overlap
 * @param rise    consecutive successes that bring a down backend back
 * @param fall    consecutive failures that take a backend down
 */
public record HealthConfig(boolean enabled, String path, Duration interval, Duration timeout, int rise, int fall) {
    public static final HealthConfig DEFAULT = new HealthConfig(true, "/health", Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 2);

    public HealthConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
    }
}
