package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The compatibility listener for old clients (the seed's port 5000): every path proxied to one
 * pool, and bound only while that pool has a backend in rotation, so a client is refused at once
 * instead of hanging or getting 503s.
 *
 * @param pool          null when there is no compatibility listener
 * @param checkInterval how often the pool's state is looked at to start or stop the listener
 * @param listener      the listener whose API keys, rate limits (the same buckets), CORS, limits and
 *                      trusted proxies apply here too, so the old port is no way around them; by default
 *                      the first listener with a route to {@code pool}; null when there is none
 */
public record CompatConfig(String host, int port, String pool, Duration checkInterval, String listener) {
    public static final CompatConfig NONE = new CompatConfig("0.0.0.0", 5000, null, Duration.ofMillis(250), null);

    public CompatConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(checkInterval, "checkInterval");
    }

    public boolean enabled() {
        return pool != null;
    }
}
