package io.sluice.http.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.sluice.core.backend.Backend;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** One backend's connection pools, one per event loop. */
public final class BackendConnections {
    private final Backend backend;
    private final InetSocketAddress address;
    private final Class<? extends Channel> channelClass;
    private final int connectTimeoutMillis;
    private final int maxIdle;
    private final long streamIdleMillis;
    private final ConcurrentHashMap<EventLoop, UpstreamPool> byLoop = new ConcurrentHashMap<>();
    private final AtomicLong opened = new AtomicLong();

    public BackendConnections(Backend backend, Class<? extends Channel> channelClass,
                              int connectTimeoutMillis, int maxIdle, long streamIdleMillis) {
        this.streamIdleMillis = streamIdleMillis;
        this.backend = backend;
        this.address = new InetSocketAddress(backend.host(), backend.port());
        this.channelClass = channelClass;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.maxIdle = maxIdle;
    }

    public Backend backend() {
        return backend;
    }

    public UpstreamPool on(EventLoop loop) {
        UpstreamPool p = byLoop.get(loop);
        return p != null ? p : byLoop.computeIfAbsent(loop,
                l -> new UpstreamPool(this, l, channelClass, address, connectTimeoutMillis, maxIdle, streamIdleMillis));
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
