package io.sluice.http.ratelimit;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.sluice.core.config.AccessConfig;
import io.sluice.core.ratelimit.Limiter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's shared rate-limit stores: one Redis connection per distinct {@code rate-limits.store}
 * setting, made when a listener first needs it and closed with the server. Lettuce runs on threads of
 * its own, two I/O and two for its timers (its minimum): its transport detection does not follow the
 * gateway's choice of io_uring, epoll or NIO, so it cannot safely share the gateway's loops. They are
 * shut down by {@link #close()}, with the server.
 */
public final class RedisLimits implements AutoCloseable {
    static {
        // Lettuce takes epoll when both native transports are there, warning on every connect that it did; say so once.
        if (System.getProperty("io.lettuce.core.iouring") == null) {
            System.setProperty("io.lettuce.core.iouring", "false");
        }
    }

    private final Map<AccessConfig.LimitStore, RedisBuckets> stores = new HashMap<>();
    private ClientResources resources;
    private boolean closed;

    /** A limiter for one listener's per-key or per-address limits, in the given store. */
    public synchronized Limiter limiter(AccessConfig.LimitStore store, String scope, long requestsPerMinute, long tokensPerMinute) {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        if (resources == null) {
            resources = DefaultClientResources.builder()
                    .ioThreadPoolSize(2)
                    .computationThreadPoolSize(2)
                    // Back within a second or two of Redis returning, not Lettuce's default of up to 30 s.
                    .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                    .build();
        }
        RedisBuckets b = stores.computeIfAbsent(store, s -> new RedisBuckets(s, resources));
        return new SharedLimiter(b, scope, requestsPerMinute, tokensPerMinute);
    }

    /** Whether a limiter made here uses this store and these limits (a reload may keep it, and its counts stay in Redis anyway). */
    public static boolean same(Limiter l, AccessConfig.LimitStore store, long requestsPerMinute, long tokensPerMinute) {
        return l instanceof SharedLimiter s && s.store().config().equals(store)
                && s.requestsPerMinute() == requestsPerMinute && s.tokensPerMinute() == tokensPerMinute;
    }

    /** Whether every store has answered its last command (false before the first answer). */
    public synchronized boolean allUp() {
        return !stores.isEmpty() && stores.values().stream().allMatch(RedisBuckets::up);
    }

    /** Whether every store's connection is open now (each reconnects on its own timer after Redis returns). */
    public synchronized boolean allConnected() {
        return !stores.isEmpty() && stores.values().stream().allMatch(RedisBuckets::connected);
    }

    /**
     * After a reload: closes the stores no listener names any more. A request still holding one of
     * their limiters falls back as if Redis were unreachable.
     */
    public synchronized void retain(java.util.Collection<AccessConfig.LimitStore> inUse) {
        java.util.Set<AccessConfig.LimitStore> keep = new java.util.HashSet<>(inUse);
        stores.entrySet().removeIf(e -> {
            if (keep.contains(e.getKey())) {
                return false;
            }
            e.getValue().close();
            return true;
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        stores.values().forEach(RedisBuckets::close);
        stores.clear();
        if (resources != null) {
            resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }
}
