package io.sluice.http.pool;

import io.netty.channel.Channel;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.core.config.BackendConfig;
import io.sluice.core.config.ConfigException;
import io.sluice.core.config.PoolConfig;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The pools a gateway proxies to, with each backend's per-event-loop connection pools. */
public final class Upstreams {
    private final Map<String, BackendPool> pools = new ConcurrentHashMap<>();
    private final Map<Backend, BackendConnections> connections = new ConcurrentHashMap<>();
    private final Class<? extends Channel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    /** Per pool with {@code https://} backends: its TLS context, replaced as a whole by a reload. */
    private final Map<String, UpstreamTls> tls = new ConcurrentHashMap<>();

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
        installTls(name, null);
    }

    /**
     * The TLS contexts of {@code configs}' pools that have {@code https://} backends, built now (the
     * files read, the keys parsed). On a failure the ones already built are released and nothing is
     * installed, so a reload with a broken key changes nothing.
     *
     * @param source the config file, named in the error (the loader has checked the files are PEM; what
     *               fails here is a key the TLS stack cannot use, or a file changed since)
     */
    public static Map<String, UpstreamTls> buildTls(Collection<PoolConfig> configs, String source) throws ConfigException {
        Map<String, UpstreamTls> built = new HashMap<>();
        for (PoolConfig pc : configs) {
            if (pc.backends().stream().anyMatch(BackendConfig::tls)) {
                try {
                    built.put(pc.name(), UpstreamTls.build(pc.name(), pc.tls()));
                } catch (IOException | RuntimeException e) {
                    built.values().forEach(UpstreamTls::release);
                    throw new ConfigException(List.of(new ConfigException.Problem(source, 0, 0, "pools." + pc.name() + ".tls",
                            String.valueOf(e.getMessage()))), e);
                }
            }
        }
        return built;
    }

    /**
     * Makes {@code next} (null: none) the pool's TLS context for new connections; the one it replaces
     * is released. A {@code next} built from the same settings and files as the current one is
     * released instead, so a reload that changed nothing here keeps the pooled connections. Idle pooled connections made with the old one are not reused (see {@link UpstreamPool}).
     */
    public void installTls(String pool, UpstreamTls next) {
        UpstreamTls current = tls.get(pool);
        if (next != null && next.sameAs(current)) {
            next.release(); // nothing changed: the pooled connections stay usable
            return;
        }
        UpstreamTls old = next == null ? tls.remove(pool) : tls.put(pool, next);
        if (old != null && old != next) {
            old.release();
        }
    }

    /** The pool's current TLS context, or null when it has none (no https:// backend when loaded). */
    public UpstreamTls tls(String pool) {
        return tls.get(pool);
    }

    /**
     * The {@code Host} to send to {@code b} by its pool's {@code host-header}; null for {@code pass}
     * (the client's Host is kept).
     */
    public String hostHeader(Backend b) {
        BackendPool p = pools.get(b.pool());
        return p == null ? null : hostHeader(p.config().hostHeader(), b);
    }

    static String hostHeader(String mode, Backend b) {
        if (PoolConfig.HOST_PASS.equals(mode)) {
            return null;
        }
        return PoolConfig.HOST_BACKEND.equals(mode) ? authority(b) : mode;
    }

    /** The backend's url authority: {@code host[:port]}, the port left out when it is the scheme's default. */
    public static String authority(Backend b) {
        String host = b.host().indexOf(':') >= 0 ? "[" + b.host() + "]" : b.host();
        return b.port() == (b.tls() ? 443 : 80) ? host : host + ":" + b.port();
    }

    /** Releases every TLS context (at shutdown; open connections keep theirs until they close). */
    private final io.netty.channel.group.ChannelGroup channels =
            new io.netty.channel.group.DefaultChannelGroup("sluice-upstream", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    /** Every open upstream connection (pooled idle ones too). */
    public io.netty.channel.group.ChannelGroup channels() {
        return channels;
    }

    public void close() {
        for (String pool : List.copyOf(tls.keySet())) {
            installTls(pool, null);
        }
    }

    private final Map<String, java.util.concurrent.atomic.AtomicInteger> websockets = new ConcurrentHashMap<>();

    /** The WebSocket tunnels open to a pool now (across event loops), and the counter a new one takes a slot of. */
    public java.util.concurrent.atomic.AtomicInteger websockets(String pool) {
        return websockets.computeIfAbsent(pool, k -> new java.util.concurrent.atomic.AtomicInteger());
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
        return connections.computeIfAbsent(b, k -> new BackendConnections(k, pool, channelClass, resolver, this));
    }
}
