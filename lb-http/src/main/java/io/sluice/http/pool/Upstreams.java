package io.sluice.http.pool;

import io.netty.channel.Channel;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The pools a gateway proxies to, with each backend's per-event-loop connection pools. */
public final class Upstreams {
    private final Map<String, BackendPool> pools = new ConcurrentHashMap<>();
    private final Map<Backend, BackendConnections> connections = new ConcurrentHashMap<>();
    private final Class<? extends Channel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;

    /** @param resolver looks up backends named by host name (see {@link UpstreamResolver}) */
    public Upstreams(Class<? extends Channel> channelClass, AddressResolverGroup<InetSocketAddress> resolver) {
        this.channelClass = channelClass;
        this.resolver = resolver;
    }

    public void addPool(BackendPool pool) {
        pools.put(pool.name(), pool);
        for (Backend b : pool.backends()) {
            connectionsFor(b, pool);
        }
    }

    /** Drops a pool no route refers to any more; its backends are drained and forgotten separately. */
    public void removePool(String name) {
        pools.remove(name);
    }

    public BackendPool pool(String name) {
        return pools.get(name);
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    public BackendConnections connections(Backend backend) {
        BackendConnections c = connections.get(backend);
        return c != null ? c : connectionsFor(backend, pools.get(backend.pool()));
    }

    /**
     * Drops a removed backend's connection pools. Idle connections close on their idle timeout;
     * a request still running keeps its own connection to the end.
     */
    public void forget(Backend backend) {
        connections.remove(backend);
    }

    private BackendConnections connectionsFor(Backend b, BackendPool pool) {
        return connections.computeIfAbsent(b, k -> new BackendConnections(k, pool, channelClass, resolver));
    }
}
