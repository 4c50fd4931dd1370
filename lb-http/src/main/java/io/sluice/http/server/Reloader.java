package io.sluice.http.server;

import io.sluice.admin.AdminContext.RouteInfo;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.BackendConfig;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.core.pool.BackendPool;
import io.sluice.sim.VllmSimulator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a re-read config to the running gateway without dropping anything in flight.
 *
 * <p>The new file is validated completely first; an invalid one changes nothing. Then, in an order
 * that never leaves a route pointing nowhere: new pools and backends are added (new backends take
 * traffic once their health checks pass), pool settings replaced, each listener's route table
 * swapped (read per request, so open keep-alive connections follow), and only then are removed
 * backends and pools drained and dropped. Streams on them run to their end.
 *
 * <p>Every pool setting applies live (the proxy reads the pool's config per request, connection
 * pools per connection). Listeners apply everything but their socket: limits, timeouts, TLS
 * certificates and settings, HTTP/2 settings, keys, rate limits, CORS and routes (see
 * {@link ListenerInitializer#apply}), including routes' by-model, model, prefix-rewrite and header rules;
 * a pool's models and header rules are pool settings; the top-level {@code models:} aliases apply live. Not applied, and reported as needing a restart: new, removed or
 * re-bound listeners, ACME settings, the {@code server:}, {@code compat:} and {@code access-log:}
 * sections, and a simulator backend's settings.
 */
public final class Reloader {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final SluiceServer server;

    Reloader(SluiceServer server) {
        this.server = server;
    }

    /** What a reload changed, and what it could not. */
    public record Result(String source, List<String> changes,
                         @com.fasterxml.jackson.annotation.JsonProperty("needs_restart") List<String> needsRestart) {
    }

    synchronized Result reload(Path file) throws Exception {
        SluiceConfig next = ConfigLoader.load(file); // throws with every problem located; nothing changed yet
        // Upstream TLS contexts built before anything changes: an unusable key or CA fails the reload whole.
        java.util.Map<String, io.sluice.http.pool.UpstreamTls> tls = io.sluice.http.pool.Upstreams.buildTls(next.pools().values(), next.source());
        for (PoolConfig pc : next.pools().values()) {
            server.upstreams().installTls(pc.name(), tls.get(pc.name())); // for new connections; see UpstreamPool
        }
        SluiceConfig current = server.config();
        List<String> changes = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        List<Backend> toRemove = new ArrayList<>();

        for (PoolConfig pc : next.pools().values()) {
            BackendPool pool = server.upstreams().pool(pc.name());
            io.sluice.core.config.ProviderConfig simulated = next.providers().values().stream()
                    .filter(p -> p.simulator() != null && p.pool().equals(pc.name())).findFirst().orElse(null);
            if (pool == null) {
                List<Backend> backends = new ArrayList<>();
                for (BackendConfig bc : pc.backends()) {
                    if (bc.isDiscovered()) {
                        continue; // DnsDiscovery adds them, below
                    }
                    backends.add(simulated != null
                            ? new Backend(bc.name(), pc.name(), bc.host(), server.startProviderSimulator(simulated), 1, false)
                            : newBackend(pc, bc));
                }
                pool = new BackendPool(pc, backends);
                server.upstreams().addPool(pool);
                for (Backend b : backends) {
                    server.health().watch(b, pc.health());
                }
                changes.add("pool " + pc.name() + " added with " + backends.size() + " backend(s)");
                continue;
            }
            PoolConfig old = pool.config();
            boolean healthChanged = !old.health().equals(pc.health());
            if (!sameSettings(old, pc)) {
                changes.add("pool " + pc.name() + " settings updated");
            }
            pool.reconfigure(pc); // also when only the backends changed: the config is their record

            List<String> wanted = new ArrayList<>();
            for (BackendConfig bc : pc.backends()) {
                if (bc.isDiscovered()) {
                    continue; // reconciled by DnsDiscovery, below
                }
                wanted.add(bc.name());
                Backend existing = find(pool, bc.name());
                BackendConfig before = old.backends().stream().filter(x -> x.name().equals(bc.name()))
                        .findFirst().orElse(null);
                if (existing != null && bc.isSimulated() && before != null && !bc.equals(before)) {
                    restart.add("pool " + pc.name() + ": simulator backend " + bc.name() + " settings changed");
                }
                if (existing != null && (simulated != null || matches(existing, bc))) { // a provider's simulator keeps running
                    if (healthChanged) {
                        server.health().unwatch(existing);
                        server.health().watch(existing, pc.health());
                    }
                    continue;
                }
                if (existing != null) {
                    toRemove.add(existing); // changed address or weight: replace it
                    pool.remove(existing);
                }
                Backend b = newBackend(pc, bc);
                if (pc.health().enabled()) {
                    b.markDown("added by reload; waiting for health checks");
                }
                pool.add(b);
                server.health().watch(b, pc.health());
                changes.add("pool " + pc.name() + ": backend " + bc.name() + (existing != null ? " replaced" : " added"));
            }
            for (BackendConfig bc : pc.backends()) {
                if (bc.isDiscovered() && !old.backends().contains(bc)) {
                    changes.add("pool " + pc.name() + ": dns entry " + bc.name() + " added or changed");
                }
            }
            for (BackendConfig bc : old.backends()) {
                if (bc.isDiscovered() && pc.backends().stream().noneMatch(x -> x.isDiscovered() && x.name().equals(bc.name()))) {
                    changes.add("pool " + pc.name() + ": dns entry " + bc.name() + " removed (draining its backends)");
                }
            }
            for (Backend b : pool.backends()) {
                if (server.discovery().owns(b)) {
                    if (healthChanged) {
                        server.health().unwatch(b);
                        server.health().watch(b, pc.health());
                    }
                } else if (!wanted.contains(b.id())) {
                    toRemove.add(b);
                    changes.add("pool " + pc.name() + ": backend " + b.id() + " removed (draining)");
                }
            }
        }

        // dns: entries: new ones start, unchanged ones keep their backends, removed ones drain theirs.
        server.discovery().update(next.pools().values());

        for (ListenerConfig wanted : next.listeners()) {
            ListenerConfig lc = wanted;
            ListenerInitializer init = server.initializers().get(lc.name());
            ListenerConfig old = current.listeners().stream().filter(l -> l.name().equals(wanted.name())).findFirst().orElse(null);
            if (init == null || old == null) {
                restart.add("listener " + lc.name() + " is new");
                continue;
            }
            if (!old.host().equals(lc.host()) || old.port() != lc.port()) {
                restart.add("listener " + lc.name() + " address changed (" + old.host() + ":" + old.port() + " -> "
                        + lc.host() + ":" + lc.port() + ")");
                continue;
            }
            if (old.equals(lc)) {
                continue;
            }
            io.sluice.http.tls.CertificateStore certificates;
            try {
                certificates = server.edge().reload(old, lc);
            } catch (IllegalStateException acme) {
                restart.add(acme.getMessage());
                certificates = server.edge().certificates(old);
                lc = withTls(lc, old);
            }
            boolean routesChanged = !old.routes().equals(lc.routes());
            init.apply(lc, certificates);
            changes.add("listener " + lc.name() + " settings applied");
            if (routesChanged) {
                List<RouteInfo> infos = new ArrayList<>();
                lc.routes().forEach(r -> infos.add(new RouteInfo(r.pathPrefix(), r.pool(), r.admin())));
                server.listenerRoutes(lc.name(), List.copyOf(infos));
                changes.add("listener " + lc.name() + " routes replaced");
            }
        }
        for (ListenerConfig old : current.listeners()) {
            if (next.listeners().stream().noneMatch(l -> l.name().equals(old.name()))) {
                restart.add("listener " + old.name() + " was removed");
            }
        }
        if (!current.compat().equals(next.compat())) {
            restart.add("compat: section changed");
        }
        server.compatFollowsMirroredListener(); // its keys and limits are never older than the main port's
        if (!current.server().equals(next.server())) {
            restart.add("server: section changed");
        }
        if (!java.util.Objects.equals(current.accessLog(), next.accessLog())) {
            restart.add("access-log: section changed");
        }
        if (!current.telemetry().equals(next.telemetry())) {
            restart.add("telemetry: section changed");
        }
        if (!current.admin().equals(next.admin())) {
            changes.add("admin settings updated");
        }
        if (!java.util.Objects.equals(current.services(), next.services())) {
            server.webSockets().apply(next.services()); // vfs and console read the config per request
            changes.add("services: updated");
        }
        if (!current.models().equals(next.models())) {
            changes.add("models: aliases updated"); // read from the config per request, like routes
        }

        // Routes no longer lead to these: drain, then forget.
        for (BackendPool pool : new ArrayList<>(server.upstreams().pools())) {
            if (!next.pools().containsKey(pool.name())) {
                server.upstreams().removePool(pool.name());
                toRemove.addAll(pool.backends());
                changes.add("pool " + pool.name() + " removed (draining " + pool.backends().size() + " backend(s))");
            }
        }
        for (Backend b : toRemove) {
            server.backendManager().remove(b); // answers when drained; nothing waits for it here
        }
        server.config(next);
        log.info("config reloaded from {}: {}{}", file, changes.isEmpty() ? "no changes" : String.join("; ", changes),
                restart.isEmpty() ? "" : "; needs a restart: " + String.join("; ", restart));
        return new Result(next.source(), changes, restart);
    }

    /** {@code next} with the TLS settings of {@code old}: what runs when a TLS change cannot be applied live. */
    private static ListenerConfig withTls(ListenerConfig next, ListenerConfig old) {
        return new ListenerConfig(next.name(), next.host(), next.port(), next.maxHeaderSize(), next.maxInitialLine(),
                next.idleTimeout(), next.routes(), old.tls(), next.http2(), next.redirectToHttps(), next.headerTimeout(),
                next.bodyTimeout(), next.maxRequestBody(), next.maxHeaders(), next.maxConnections(), next.access(),
                next.trustedProxies());
    }

    private Backend newBackend(PoolConfig pc, BackendConfig bc) throws Exception {
        int port = bc.port();
        if (bc.isSimulated()) {
            VllmSimulator sim = server.startSimulator(bc.simulator());
            port = sim.port();
        }
        return new Backend(bc.name(), pc.name(), bc.host(), port, bc.weight(), bc.tls());
    }

    private static Backend find(BackendPool pool, String id) {
        for (Backend b : pool.backends()) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        return null;
    }

    /** Same backend: same name, and for a real server the same address and weight (a simulator keeps its port). */
    private static boolean matches(Backend b, BackendConfig bc) {
        return b.weight() == bc.weight()
                && (bc.isSimulated() || (b.host().equals(bc.host()) && b.port() == bc.port() && b.tls() == bc.tls()));
    }

    /**
     * Every pool setting but the backend list, which is reconciled one by one. All of them apply live:
     * the proxy reads the pool's config per request and the connection pools per connection.
     */
    static boolean sameSettings(PoolConfig a, PoolConfig b) {
        return a.equals(b.withBackends(a.backends()));
    }
}
