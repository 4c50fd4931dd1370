package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateEvent;
import io.sluice.admin.AdminAccessFilter;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.core.route.RouteTable;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.FilterChain;
import io.sluice.http.access.AccessFilters;
import io.sluice.http.model.ModelRouting;
import io.sluice.http.provider.ProviderGateway;
import io.sluice.http.provider.ProviderKeys;
import io.sluice.http.provider.Providers;
import io.sluice.http.rewrite.HeaderRulesFilter;
import io.sluice.http.rewrite.PathRewrite;
import io.sluice.http.access.AccessPolicy;
import io.sluice.http.h2.Http2Pipeline;
import io.sluice.http.h2.PriorKnowledge;
import io.sluice.http.h2.StreamBudget;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.http.timeout.IdleTimeout;
import io.sluice.http.tls.AcmeChallenges;
import io.sluice.http.tls.AlpnHandler;
import io.sluice.http.tls.CertificateStore;
import io.sluice.http.tls.Hsts;
import io.sluice.http.tls.HttpsRedirect;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The pipeline of a client connection. In front: TLS (SNI, then ALPN picks h2 or http/1.1), or on a
 * plain listener the h2c prior-knowledge sniffer. An HTTP/1.1 connection gets the raw-bytes
 * {@code guard} and the strict {@code codec}; an HTTP/2 connection a child channel per stream. Then,
 * per request stream alike, one {@link ExchangeHandler}: it runs the listener's {@link FilterChain}
 * (validation, request ids, routing, admin access, CORS, API keys, rate limits, ...) phase by phase and
 * drives the request's target, the proxy or the admin API.
 *
 * <p>A plain HTTP/1.1 connection that has been quiet for {@link #QUIET_MILLIS} between requests is
 * stripped down to its idle handler, with a shared {@code Dormant} standing in for the rest
 * ({@link IdleTimeout#standIn}), dropping about 2 KB of handler state; its next byte rebuilds the
 * chain. Thousands of idle keep-alive connections then cost little more than Netty's channel objects
 * (measured in docs/BENCHMARKS.md, "Memory per idle connection").
 */
final class ListenerInitializer extends ChannelInitializer<Channel> {
    /**
     * Short, because a connection is at its largest while it waits here (about 4.4 KB live against
     * 1.3 KB dormant): opening 19,000 at once, with 1 s here, the young collections promoted the
     * waiting ones' state, and the old generation reached 75 MB for 36 MB live (docs/BENCHMARKS.md).
     */
    static final long QUIET_MILLIS = 500;
    private static final String[] CHAIN = {"guard", "codec", "exchange"};
    private volatile ListenerConfig config;       // replaced by a reload: new connections and requests use it
    private final RouteTable routes;
    private final AdminRoutes adminRoutes;
    private final Upstreams upstreams;
    private final List<ExchangeObserver> observers;
    private volatile CertificateStore certificates;
    private final AcmeChallenges challenges;
    private final AtomicInteger listenerConnections = new AtomicInteger();
    private final AtomicInteger totalConnections;
    private final int maxTotal;
    private final ClientConnections clients;
    private final LongAdder openGauge;          // the listener's open-connections metric
    private volatile AccessPolicy access;
    private volatile FilterChain chain;
    private volatile java.util.function.Supplier<io.sluice.core.model.ModelCatalog> catalogs = () -> io.sluice.core.model.ModelCatalog.EMPTY;
    private volatile java.util.function.Supplier<Providers> providers = () -> Providers.NONE;
    private volatile io.sluice.http.services.BuiltinServices services;
    private final ExchangeHandler.Targets http1Targets;
    private final ExchangeHandler.Targets streamTargets;
    private final Dormant dormant = new Dormant();
    /** One listener for every connection's close, not a lambda per connection (16 bytes each, idle or not). */
    private final ChannelFutureListener closed;
    private volatile boolean mayHibernate;
    private volatile IdleTimeout.Limits idleLimits; // shared by the listener's connections
    private final StreamBudget streamBudget;
    private final java.time.Duration shutdownGrace;
    private final ListenerInitializer limitsFrom;
    private final io.sluice.http.ratelimit.RedisLimits limitStores;

    /**
     * @param certificates the listener's certificates, null for a plain listener
     * @param challenges   pending ACME HTTP-01 tokens, answered by redirecting listeners
     */
    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, AtomicInteger totalConnections, int maxTotal,
                        ClientConnections clients, LongAdder openGauge, CertificateStore certificates, AcmeChallenges challenges,
                        java.time.Duration shutdownGrace) throws IOException {
        this(config, adminRoutes, upstreams, observers, totalConnections, maxTotal, clients, openGauge, certificates, challenges,
                shutdownGrace, null);
    }

    /** @param limitsFrom the listener whose rate-limit buckets this one uses too (the compat listener's mirrored one), or null */
    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, AtomicInteger totalConnections, int maxTotal,
                        ClientConnections clients, LongAdder openGauge, CertificateStore certificates, AcmeChallenges challenges,
                        java.time.Duration shutdownGrace, ListenerInitializer limitsFrom) throws IOException {
        this(config, adminRoutes, upstreams, observers, totalConnections, maxTotal, clients, openGauge, certificates, challenges,
                shutdownGrace, limitsFrom, null);
    }

    /** @param limitStores the gateway's shared rate-limit stores ({@code rate-limits.store}), or null (buckets stay local) */
    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, AtomicInteger totalConnections, int maxTotal,
                        ClientConnections clients, LongAdder openGauge, CertificateStore certificates, AcmeChallenges challenges,
                        java.time.Duration shutdownGrace, ListenerInitializer limitsFrom,
                        io.sluice.http.ratelimit.RedisLimits limitStores) throws IOException {
        this.limitStores = limitStores;
        this.config = config;
        this.routes = new RouteTable(config.routes());
        this.adminRoutes = adminRoutes;
        this.upstreams = upstreams;
        this.observers = observers;
        this.totalConnections = totalConnections;
        this.maxTotal = maxTotal;
        this.clients = clients;
        this.openGauge = openGauge;
        this.closed = f -> {
            listenerConnections.decrementAndGet();
            totalConnections.decrementAndGet();
            openGauge.decrement();
            clients.remove(f.channel());
        };
        this.certificates = certificates;
        this.challenges = challenges;
        this.limitsFrom = limitsFrom;
        this.access = AccessPolicy.of(config, null, limitsFrom == null ? null : limitsFrom.access(), limitStores);
        this.mayHibernate = certificates == null && config.redirectToHttps() == 0;
        this.idleLimits = idleLimits(config, mayHibernate);
        this.streamBudget = new StreamBudget(config.http2().maxUpstreamPerConnection(), config.http2().maxUpstreamTotal());
        this.shutdownGrace = shutdownGrace;
        this.chain = chain(config, access);
        String proto = certificates != null ? "https" : "http";
        this.http1Targets = targets(proto, null);
        this.streamTargets = targets(proto, streamBudget);
    }

    private ExchangeHandler.Targets targets(String proto, StreamBudget streams) {
        return new ExchangeHandler.Targets() {
            @Override
            public io.sluice.core.exchange.ExchangeTarget proxy(ChannelHandlerContext ctx) {
                return new ProxyHandler(ctx, upstreams, proto, streams);
            }

            @Override
            public io.sluice.core.exchange.ExchangeTarget admin(ChannelHandlerContext ctx) {
                return new AdminHandler(adminRoutes, ctx);
            }

            @Override
            public io.sluice.core.exchange.ExchangeTarget staticFiles(ChannelHandlerContext ctx) {
                return new io.sluice.http.files.StaticFiles(ctx);
            }

            @Override
            public io.sluice.core.exchange.ExchangeTarget service(ChannelHandlerContext ctx, String name) {
                io.sluice.http.services.BuiltinServices s = services;
                if (s == null) {
                    return io.sluice.http.services.Services.unavailable(ctx, name);
                }
                return switch (name) {
                    case io.sluice.core.config.ServicesConfig.VFS -> io.sluice.http.services.Services.vfs(ctx, s);
                    case io.sluice.core.config.ServicesConfig.CONSOLE -> io.sluice.http.services.Services.console(ctx, s);
                    case io.sluice.core.config.ServicesConfig.SIGNALING, io.sluice.core.config.ServicesConfig.AGENT_BRIDGE ->
                            webSockets.target(ctx, name);
                    default -> io.sluice.http.services.Services.unavailable(ctx, name);
                };
            }
        };
    }

    /** The built-in WebSocket services (signaling, agent-bridge), shared by every listener. */
    private volatile io.sluice.http.services.WebSocketServices webSockets = new io.sluice.http.services.WebSocketServices(
            io.sluice.core.config.ServicesConfig.NONE);

    void webSockets(io.sluice.http.services.WebSocketServices s) {
        webSockets = s;
    }

    /** The listener's filters, in the order their phases run. */
    private FilterChain chain(ListenerConfig config, AccessPolicy access) {
        List<ExchangeFilter> filters = new ArrayList<>();
        filters.add(new RequestValidation(config));
        filters.add(RequestIds.INSTANCE);
        filters.add(new Routing(routes, adminRoutes));
        filters.add(new AdminAccessFilter(adminRoutes));
        filters.addAll(AccessFilters.of(access));
        filters.add(new ProviderGateway(() -> providers.get()));
        filters.add(new ModelRouting(() -> catalogs.get()));
        // After model routing: a by-model route's pool, and so its policy, is known only once the model is read.
        filters.add(new io.sluice.http.route.AffinityKeys(name -> {
            io.sluice.core.pool.BackendPool pool = upstreams.pool(name);
            return pool == null ? null : pool.config();
        }));
        filters.add(PathRewrite.INSTANCE);
        filters.add(new HeaderRulesFilter(name -> {
            io.sluice.core.pool.BackendPool pool = upstreams.pool(name);
            return pool == null ? null : pool.config();
        }));
        filters.add(new ProviderKeys(() -> providers.get())); // last: no header rule can put a client's credentials back
        return new FilterChain(filters);
    }

    /** The built-in HTTP services ({@code service:} routes); without them such routes answer 404. */
    void services(io.sluice.http.services.BuiltinServices services) {
        this.services = services;
    }

    /** Where the provider gateway reads the current providers and model groups. */
    void providers(java.util.function.Supplier<Providers> providers) {
        this.providers = providers;
    }

    /** Where the model routing filter reads the gateway's current models and aliases. */
    void models(java.util.function.Supplier<io.sluice.core.model.ModelCatalog> catalogs) {
        this.catalogs = catalogs;
    }

    FilterChain chain() {
        return chain;
    }

    ListenerConfig config() {
        return config;
    }

    /** The listener's access rules, or null when it has none. */
    AccessPolicy access() {
        return access;
    }

    /**
     * Applies a reloaded config of this listener (same socket): limits, timeouts, HTTP/2 settings,
     * keys, rate limits, CORS and routes take effect for the next request, also on open connections;
     * TLS settings and certificates for the next handshake. Rate-limit counters survive where the
     * limits did not change.
     */
    void apply(ListenerConfig next, CertificateStore nextCertificates) throws IOException {
        // Key files are read again; unchanged limits keep their counts (the compat listener: its mirrored listener's).
        access = AccessPolicy.of(next, access, limitsFrom == null ? null : limitsFrom.access(), limitStores);
        certificates = nextCertificates;
        mayHibernate = nextCertificates == null && next.redirectToHttps() == 0;
        idleLimits = idleLimits(next, mayHibernate);
        streamBudget.limits(next.http2().maxUpstreamPerConnection(), next.http2().maxUpstreamTotal());
        routes.replace(next.routes());
        chain = chain(next, access);
        config = next;
    }

    /** The idle timeout, and the quiet period after which a plain HTTP/1.1 connection turns dormant. */
    private static IdleTimeout.Limits idleLimits(ListenerConfig config, boolean mayHibernate) {
        return new IdleTimeout.Limits(0, config.idleTimeout().toMillis(), mayHibernate ? QUIET_MILLIS : 0);
    }

    /** The routes new requests on this listener use; replaced by a reload. */
    RouteTable routes() {
        return routes;
    }

    @Override
    protected void initChannel(Channel ch) {
        ListenerConfig config = this.config;
        CertificateStore certificates = this.certificates;
        boolean mayHibernate = this.mayHibernate;
        int onListener = listenerConnections.incrementAndGet();
        int total = totalConnections.incrementAndGet();
        openGauge.increment();
        ch.closeFuture().addListener(closed); // the connection's only close listener: it counts and forgets it
        clients.add(ch);
        if ((config.maxConnections() > 0 && onListener > config.maxConnections()) || (maxTotal > 0 && total > maxTotal)) {
            ch.close(); // over the limit: refused before any byte is read; open connections are not touched
            return;
        }
        IdleTimeout.Limits idle = idleLimits;
        if (idle.any()) {
            ch.pipeline().addLast("idle", new IdleTimeout(idle));
        }
        if (certificates != null) {
            ch.pipeline().addLast("sni", certificates.newSniHandler()) // its handshake timeout bounds a silent client
                    .addLast("alpn", new AlpnHandler(this::http1, config.http2().enabled() ? this::http2 : null));
        } else if (config.redirectToHttps() != 0) {
            RequestGuard guard = new RequestGuard(config.headerTimeout().toMillis(), true);
            ch.pipeline().addLast("guard", guard).addLast("codec", codec())
                    .addLast("redirect", new HttpsRedirect(config.redirectToHttps(), challenges, guard::headDecoded,
                            guard::nextHead));
        } else if (config.http2().enabled()) {
            ch.pipeline().addLast("sniff", new PriorKnowledge(this::http1, this::http2, config.headerTimeout().toMillis()));
        } else {
            http1(ch.pipeline());
        }
    }

    private ServerCodec codec() {
        return new ServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength((int) config.maxInitialLine())
                .setMaxHeaderSize((int) config.maxHeaderSize())
                .setMaxChunkSize(64 * 1024));
    }

    private void http1(ChannelPipeline p) {
        http1(p, true);
    }

    /** @param firstRequest a new connection (its first head is timed from now), not a dormant one waking up */
    private void http1(ChannelPipeline p, boolean firstRequest) {
        RequestGuard guard = new RequestGuard(config.headerTimeout().toMillis(), firstRequest);
        p.addLast("guard", guard).addLast("codec", codec());
        requestChain(p, guard, mayHibernate ? this::hibernate : null);
    }

    /** Called by the dispatcher of a quiet connection between requests. */
    private void hibernate(ChannelHandlerContext dispatch) {
        ChannelPipeline p = dispatch.pipeline();
        RequestGuard guard = p.get(RequestGuard.class);
        ServerCodec codec = p.get(ServerCodec.class);
        if (guard == null || codec == null || !guard.atRest() || !codec.atRest()) {
            return; // bytes of a next request arrived (or are due): stay as we are
        }
        IdleTimeout idle = p.get(IdleTimeout.class);
        if (idle == null) {
            return;
        }
        for (String name : CHAIN) {
            if (p.context(name) != null) {
                p.remove(name);
            }
        }
        idle.standIn(dormant);
    }

    /**
     * The whole of a hibernating connection's request handling, standing in (with the idle
     * handler's context) for the handlers removed: wake up on the first byte.
     */
    @ChannelHandler.Sharable
    private final class Dormant extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            http1(ctx.pipeline(), false); // added behind the idle handler, whose context this is
            ctx.fireChannelRead(msg); // to the new guard
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent || evt instanceof ExchangeHandler.Drain) {
                ctx.close(); // what the dispatcher does with a connection between requests
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private void http2(ChannelPipeline p) {
        Http2Pipeline.configure(p, config.http2(), stream -> requestChain(stream, null, null),
                ExchangeHandler.Drain.INSTANCE, shutdownGrace.toMillis());
    }

    /** The handlers of one request stream: an HTTP/1.1 connection (with its guard), or one HTTP/2 stream. */
    private void requestChain(ChannelPipeline p, RequestGuard guard, Consumer<ChannelHandlerContext> hibernate) {
        long hsts = certificates == null ? 0 : config.tls().hsts().toSeconds();
        if (hsts > 0) {
            p.addLast("hsts", new Hsts(hsts));
        }
        // The chain is read per request, so a reload's filters (keys, limits, CORS, routes) apply to open connections.
        p.addLast("exchange", new ExchangeHandler(this::config, this::chain, guard == null ? streamTargets : http1Targets,
                guard, observers, hibernate));
    }
}
