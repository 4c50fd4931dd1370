package io.sluice.http.services;

import io.sluice.core.config.ServicesConfig;
import io.sluice.core.ratelimit.RateLimiter;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * What the built-in HTTP services ({@code services:} {@code vfs}, {@code console}) share for the whole
 * gateway: the current config (a reload may change it), one thread for their blocking work (file
 * reads and writes, parsing, logging), never an event loop, and the console's per-client buckets.
 * Made by the server and closed with it.
 */
public final class BuiltinServices implements AutoCloseable {
    private final Supplier<ServicesConfig> configs;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            new io.netty.util.concurrent.DefaultThreadFactory("sluice-services", true));
    private volatile RateLimiter consoleLimits;

    public BuiltinServices(Supplier<ServicesConfig> configs) {
        this.configs = configs;
    }

    ServicesConfig config() {
        return configs.get();
    }

    /** Where the services' blocking work runs, in order (one thread: backups never race each other). */
    ExecutorService worker() {
        return worker;
    }

    /** The console's buckets for {@code perMinute}; new (and full) ones when a reload changed the rate. */
    RateLimiter consoleLimits(int perMinute) {
        RateLimiter l = consoleLimits;
        if (l == null || l.requestsPerMinute() != perMinute) {
            synchronized (this) {
                l = consoleLimits;
                if (l == null || l.requestsPerMinute() != perMinute) {
                    consoleLimits = l = new RateLimiter(perMinute, 0);
                }
            }
        }
        return l;
    }

    /** Lets a backup being written finish (a few seconds at most), then stops the thread. */
    @Override
    public void close() {
        worker.shutdown();
        try {
            if (!worker.awaitTermination(5, TimeUnit.SECONDS)) {
                worker.shutdownNow();
            }
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
