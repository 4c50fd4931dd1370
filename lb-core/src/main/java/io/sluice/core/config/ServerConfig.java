package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Process-wide settings.
 *
 * @param transport     {@code auto}, {@code epoll}, {@code io_uring} or {@code nio}; see {@link io.sluice.core.net.Transport#select}
 * @param ioThreads     event-loop threads; 0 means one per available processor
 * @param shutdownGrace how long in-flight requests may finish after a shutdown signal
 * @param maxConnections concurrent client connections over all listeners; zero for no limit
 * @param warmup        how long to drive synthetic traffic through the proxy path before the listeners
 *                      open, so that the first real requests meet compiled code; zero for none
 * @param dns           upstream host name lookups
 * @param providerCheckInterval how often each provider is checked ({@code GET} of its model list, never a
 *                      billed call) for {@code /api/health}; zero for never
 * @param providerCheckTimeout how long one such check may take
 * @param warmupUntilSettled {@code warmup: auto}: {@link #warmup} is only the cap, and the warm-up ends
 *                      once the JIT compilers have gone quiet
 */
public record ServerConfig(String transport, int ioThreads, Duration shutdownGrace, int maxConnections, Duration warmup,
                           DnsConfig dns, Duration providerCheckInterval, Duration providerCheckTimeout,
                           boolean warmupUntilSettled) {
    public static final Duration MAX_WARMUP = Duration.ofMinutes(5);
    /** The cap of {@code warmup: auto}; measured on two cores, the JIT went quiet after 25–40 s. */
    public static final Duration AUTO_WARMUP_CAP = Duration.ofSeconds(60);
    public static final Duration DEFAULT_PROVIDER_CHECK_INTERVAL = Duration.ofSeconds(60);
    public static final Duration DEFAULT_PROVIDER_CHECK_TIMEOUT = Duration.ofSeconds(10);
    public static final ServerConfig DEFAULT = new ServerConfig("auto", 0, Duration.ofSeconds(10), 0, Duration.ZERO);

    public ServerConfig(String transport, int ioThreads, Duration shutdownGrace) {
        this(transport, ioThreads, shutdownGrace, 0, Duration.ZERO);
    }

    public ServerConfig(String transport, int ioThreads, Duration shutdownGrace, int maxConnections, Duration warmup) {
        this(transport, ioThreads, shutdownGrace, maxConnections, warmup, DnsConfig.DEFAULT);
    }

    public ServerConfig(String transport, int ioThreads, Duration shutdownGrace, int maxConnections, Duration warmup,
                        DnsConfig dns) {
        this(transport, ioThreads, shutdownGrace, maxConnections, warmup, dns, DEFAULT_PROVIDER_CHECK_INTERVAL,
                DEFAULT_PROVIDER_CHECK_TIMEOUT, false);
    }

    public ServerConfig {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(providerCheckInterval, "providerCheckInterval");
        Objects.requireNonNull(providerCheckTimeout, "providerCheckTimeout");
        if (warmup.isNegative() || warmup.compareTo(MAX_WARMUP) > 0) {
            throw new IllegalArgumentException("warmup must be between 0s and " + Durations.format(MAX_WARMUP));
        }
    }

    /**
     * {@link #ioThreads} with 0 resolved here: Netty's own default for 0 is twice the processors,
     * which for a proxy mostly adds context switches.
     */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    }
}
