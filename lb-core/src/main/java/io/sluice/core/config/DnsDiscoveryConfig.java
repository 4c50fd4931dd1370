package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How often a {@code dns:} backend entry is looked up again ({@code dns-refresh}). The records' own
 * TTL decides, kept between these bounds: a floor so a TTL of 0 does not turn into a query storm,
 * a ceiling so a long TTL still notices a pod that went away.
 *
 * @param minRefresh the shortest wait between two lookups; also the first retry after a failed one
 * @param maxRefresh the longest wait; failed lookups back off (doubling from the floor) up to it
 */
public record DnsDiscoveryConfig(Duration minRefresh, Duration maxRefresh) {
    public static final DnsDiscoveryConfig DEFAULT = new DnsDiscoveryConfig(Duration.ofSeconds(1), Duration.ofSeconds(60));

    public DnsDiscoveryConfig {
        Objects.requireNonNull(minRefresh, "minRefresh");
        Objects.requireNonNull(maxRefresh, "maxRefresh");
    }

    /** The wait before the next lookup for records whose smallest TTL is {@code ttlSeconds}. */
    public Duration refreshAfter(long ttlSeconds) {
        Duration ttl = Duration.ofSeconds(Math.max(0, ttlSeconds));
        return ttl.compareTo(minRefresh) < 0 ? minRefresh : ttl.compareTo(maxRefresh) > 0 ? maxRefresh : ttl;
    }
}
