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
 */
public record ServerConfig(String transport, int ioThreads, Duration shutdownGrace, int maxConnections) {
    public static final ServerConfig DEFAULT = new ServerConfig("auto", 0, Duration.ofSeconds(10), 0);

    public ServerConfig(String transport, int ioThreads, Duration shutdownGrace) {
        this(transport, ioThreads, shutdownGrace, 0);
    }

    public ServerConfig {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    }

    /**
     * {@link #ioThreads} with 0 resolved here: Netty's own default for 0 is twice the processors,
     * which for a proxy mostly adds context switches.
     */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    }
}
