package io.sluice.http.discovery;

import io.netty.channel.EventLoop;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.BackendConfig;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.observe.LogThrottle;
import io.sluice.http.manage.RuntimeBackends;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@code dns:} backend entries of all pools: one {@link DnsWatch} per entry, each turning the
 * name's A and AAAA records into pool members and following them on their TTL.
 *
 * <p>Everything runs on one event loop, with a resolver of its own that caches nothing (each
 * watch decides when to ask again, from the TTLs it sees). Membership changes go through
 * {@link RuntimeBackends}: new addresses join like any added backend (after their health checks),
 * vanished ones are drained, then removed. {@link #update} is called at start and by each reload;
 * an entry that stays keeps its watch and its backends.
 */
public final class DnsDiscovery implements AutoCloseable {
    static final LogThrottle FAILURES = new LogThrottle(Duration.ofSeconds(30), 64);

    private final EventLoop loop;
    private final DnsNameResolverBuilder builder;
    private final RuntimeBackends backends;
    /** Loop-confined: pool and entry name → its watch. */
    private final Map<String, DnsWatch> watches = new HashMap<>();
    /** Every backend a watch made, for the reloader (which reconciles only the listed backends). */
    private final Owned owned = new Owned();
    private final java.util.concurrent.atomic.LongAdder lookups = new java.util.concurrent.atomic.LongAdder();
    private DnsNameResolver resolver; // made with the first entry: no UDP socket without one
    private boolean closed;

    /** @param builder the upstream resolver's settings ({@code server.dns}), see {@code UpstreamResolver.builder} */
    public DnsDiscovery(EventLoop loop, DnsNameResolverBuilder builder, RuntimeBackends backends) {
        this.loop = loop;
        this.builder = builder.copy().eventLoop(loop)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE);
        this.backends = backends;
    }

    /** A backend that exists because of a {@code dns:} entry (and goes with its address). */
    public boolean owns(Backend b) {
        return owned.owns(b);
    }

    /**
     * Starts watches for new entries, keeps those whose entry is unchanged (a different refresh
     * applies from the next lookup), and stops the others: their backends are drained if their
     * pool stays (a removed pool's backends are drained by the reloader with the pool).
     */
    public void update(Collection<PoolConfig> pools) {
        Map<String, BackendConfig> wanted = new HashMap<>();
        Map<String, String> poolOf = new HashMap<>();
        for (PoolConfig pc : pools) {
            for (BackendConfig bc : pc.backends()) {
                if (bc.isDiscovered()) {
                    wanted.put(key(pc.name(), bc.name()), bc);
                    poolOf.put(key(pc.name(), bc.name()), pc.name());
                }
            }
        }
        Set<String> poolNames = new java.util.HashSet<>();
        pools.forEach(p -> poolNames.add(p.name()));
        loop.execute(() -> apply(wanted, poolOf, poolNames));
    }

    private void apply(Map<String, BackendConfig> wanted, Map<String, String> poolOf, Set<String> poolNames) {
        if (closed) {
            return;
        }
        for (var it = watches.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            DnsWatch w = e.getValue();
            BackendConfig next = wanted.get(e.getKey());
            if (next != null && w.sameTarget(next)) {
                w.entry(next);
                wanted.remove(e.getKey());
            } else {
                it.remove();
                w.stop(poolNames.contains(w.pool()));
            }
        }
        if (!wanted.isEmpty() && resolver == null) {
            resolver = builder.build();
        }
        wanted.forEach((k, bc) -> {
            DnsWatch w = new DnsWatch(poolOf.get(k), bc, resolver, loop, backends, owned, lookups);
            watches.put(k, w);
            w.resolve();
        });
    }

    /** Lookups finished so far (answered or failed), over all entries: how a test sees discovery at work. */
    public long lookups() {
        return lookups.sum();
    }

    private static String key(String pool, String entry) {
        return pool + '\u0000' + entry;
    }

    /** Stops every watch (backends stay: the gateway is going away) and closes the resolver. */
    @Override
    public void close() {
        if (loop.isShuttingDown()) {
            return;
        }
        loop.submit(() -> {
            closed = true;
            watches.values().forEach(w -> w.stop(false));
            watches.clear();
            if (resolver != null) {
                resolver.close();
            }
        }).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
