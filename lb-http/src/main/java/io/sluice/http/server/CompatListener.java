package io.sluice.http.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.sluice.core.config.CompatConfig;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.pool.Upstreams;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compatibility listener (see {@link CompatConfig}): bound while its pool has a backend in
 * rotation, closed while it has none, so old clients are refused at the TCP level at once rather
 * than kept waiting. Open connections are left alone when it stops; their requests get the usual
 * 503 while the pool is empty.
 */
final class CompatListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CompatListener.class);

    private final CompatConfig config;
    private final Upstreams upstreams;
    private final ServerBootstrap bootstrap;
    private final ScheduledFuture<?> task;
    private Channel channel;        // guarded by this
    private boolean binding;        // guarded by this
    private boolean closed;         // guarded by this
    private boolean bindFailureLogged;

    CompatListener(CompatConfig config, Upstreams upstreams, ServerBootstrap bootstrap, ScheduledExecutorService scheduler) {
        this.config = config;
        this.upstreams = upstreams;
        this.bootstrap = bootstrap;
        this.task = scheduler.scheduleWithFixedDelay(this::check, 0, config.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The compat listener's own settings: every path to its pool, with the limits, access rules and
     * trusted proxies of {@code mirrored}. The one route takes its key settings from the mirrored
     * listener's broadest route to that pool, so a route's own {@code auth:} is not lost either.
     *
     * @param mirrored null when no listener serves the pool: then there are no access rules to apply
     */
    static ListenerConfig config(CompatConfig c, ListenerConfig mirrored) {
        if (mirrored == null) {
            return new ListenerConfig("compat", c.host(), c.port(), 16 * 1024, 8 * 1024, Duration.ofSeconds(120),
                    List.of(new RouteConfig("/", c.pool(), false)));
        }
        RouteConfig broadest = mirrored.routes().stream().filter(r -> c.pool().equals(r.pool()))
                .min(Comparator.comparingInt(r -> r.pathPrefix().length())).orElse(null);
        RouteConfig everything = new RouteConfig("/", c.pool(), false, broadest == null ? null : broadest.auth(),
                broadest != null && broadest.open());
        ListenerConfig m = mirrored;
        return new ListenerConfig("compat", c.host(), c.port(), m.maxHeaderSize(), m.maxInitialLine(), m.idleTimeout(),
                List.of(everything), null, m.http2(), 0, m.headerTimeout(), m.bodyTimeout(), m.maxRequestBody(), m.maxHeaders(),
                m.maxConnections(), m.access(), m.trustedProxies());
    }

    /** Whether it is accepting connections now. */
    synchronized boolean bound() {
        return channel != null;
    }

    private synchronized void check() {
        if (closed) {
            return;
        }
        BackendPool pool = upstreams.pool(config.pool());
        int available = pool == null ? 0 : pool.availableCount();
        if (available > 0 && channel == null && !binding) {
            binding = true;
            ChannelFuture f = bootstrap.bind(config.host(), config.port());
            f.addListener(x -> bound(f, available));
        } else if (available == 0 && channel != null) {
            channel.close();
            channel = null;
            log.info("compat listener {}:{} stopped: pool '{}' has no backend in rotation", config.host(), config.port(), config.pool());
        }
    }

    private synchronized void bound(ChannelFuture f, int available) {
        binding = false;
        if (!f.isSuccess()) {
            if (!bindFailureLogged) {
                log.warn("compat listener cannot bind {}:{}: {} (retrying)", config.host(), config.port(), f.cause().toString());
                bindFailureLogged = true;
            }
            return;
        }
        bindFailureLogged = false;
        if (closed) {
            f.channel().close();
            return;
        }
        channel = f.channel();
        log.info("compat listener {}:{} started: pool '{}' has {} backend(s) in rotation", config.host(), config.port(),
                config.pool(), available);
    }

    @Override
    public synchronized void close() {
        closed = true;
        task.cancel(false);
        if (channel != null) {
            channel.close().syncUninterruptibly();
            channel = null;
        }
    }
}
