package io.sluice.http.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.pool.BackendPool;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One backend's connection pools, one per event loop. Connection settings (connect timeout, idle
 * connections kept, stream-idle timeout) are read from the pool's current config each time they
 * are used, so a reload applies them without rebuilding anything.
 */
public final class BackendConnections {
    private final Backend backend;
    private final BackendPool pool;
    private final Class<? extends Channel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final ConcurrentHashMap<EventLoop, UpstreamPool> byLoop = new ConcurrentHashMap<>();
    private final AtomicLong opened = new AtomicLong();
    private final Upstreams upstreams; // its TLS contexts; null: plain connections only

    public BackendConnections(Backend backend, BackendPool pool, Class<? extends Channel> channelClass,
                              AddressResolverGroup<InetSocketAddress> resolver) {
        this(backend, pool, channelClass, resolver, null);
    }

    BackendConnections(Backend backend, BackendPool pool, Class<? extends Channel> channelClass,
                       AddressResolverGroup<InetSocketAddress> resolver, Upstreams upstreams) {
        this.upstreams = upstreams;
        this.backend = backend;
        this.resolver = resolver;
        this.pool = pool;
        this.channelClass = channelClass;
    }

    public Backend backend() {
        return backend;
    }

    PoolConfig config() {
        return pool.config();
    }

    /** The pool's current TLS context (read per connection, so a reload applies to new ones); null if none. */
    UpstreamTls tls() {
        return upstreams == null ? null : upstreams.tls(pool.name());
    }

    public UpstreamPool on(EventLoop loop) {
        UpstreamPool p = byLoop.get(loop);
        return p != null ? p : byLoop.computeIfAbsent(loop, l -> new UpstreamPool(this, l, channelClass, resolver));
    }

    /** Every upstream connection, so a shutdown can close them while their loops still run; null without Upstreams. */
    io.netty.channel.group.ChannelGroup channels() {
        return upstreams == null ? null : upstreams.channels();
    }

    void countOpened() {
        opened.incrementAndGet();
    }

    /** Connections opened to this backend since start; with keep-alive reuse it stays far below requests. */
    public long connectionsOpened() {
        return opened.get();
    }

    public int idleConnections() {
        int n = 0;
        for (UpstreamPool p : byLoop.values()) {
            n += p.idleCount();
        }
        return n;
    }
}
