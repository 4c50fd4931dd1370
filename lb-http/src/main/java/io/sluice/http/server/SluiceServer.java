package io.sluice.http.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.sluice.admin.AdminAccess;
import io.sluice.admin.AdminContext;
import io.sluice.admin.backend.BackendEndpoints;
import io.sluice.admin.config.ConfigEndpoints;
import io.sluice.admin.inference.InferenceEndpoints;
import io.sluice.http.manage.InferenceSupervisor;
import io.sluice.admin.gpu.BackendScraper;
import io.sluice.admin.gpu.GpuEndpoints;
import io.sluice.admin.gpu.GpuProbe;
import io.sluice.admin.metrics.GatewayMetrics;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.warmup.JitSettling;
import io.sluice.http.warmup.Warmup;
import io.sluice.admin.metrics.MetricsEndpoints;
import io.sluice.http.manage.RuntimeBackends;
import io.sluice.admin.AdminRoutes;
import io.sluice.admin.StatusEndpoints;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.BackendConfig;
import io.sluice.core.config.CompatConfig;
import java.time.Duration;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.TlsConfig;
import io.sluice.http.tls.CertificateStore;
import io.sluice.http.tls.SelfSigned;
import io.sluice.http.tls.Tls;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.security.cert.X509Certificate;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.SimulatorConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.core.health.HealthMonitor;
import io.sluice.core.net.Transport;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.health.HttpHealthProbe;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.pool.UpstreamResolver;
import io.netty.resolver.AddressResolverGroup;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import io.sluice.core.observe.ExchangeObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.net.BindException;
import io.netty.channel.ChannelHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running gateway built from one validated config: listeners, pools, health checks, simulators. */
public final class SluiceServer implements AutoCloseable, AdminContext {
    private static final Logger log = LoggerFactory.getLogger(SluiceServer.class);

    private volatile SluiceConfig config; // replaced by a reload
    private io.sluice.http.services.WebSocketServices webSockets; // the built-in WebSocket services; a reload applies its services: to them
    private volatile io.sluice.core.model.ModelCatalog models = io.sluice.core.model.ModelCatalog.EMPTY;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Upstreams upstreams;
    /** Upstream host names, for the proxy and the health checks; one per gateway, cache shared. */
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final HealthMonitor health;
    private final AdminAccess adminAccess;
    private final RuntimeBackends backendManager;
    /** The {@code dns:} backend entries: one backend per address, followed on the records' TTL. */
    private final io.sluice.http.discovery.DnsDiscovery discovery;
    private final List<VllmSimulator> simulators = new CopyOnWriteArrayList<>();
    private final List<io.sluice.sim.provider.ProviderSimulator> providerSimulators = new CopyOnWriteArrayList<>();
    private final List<Channel> serverChannels = new ArrayList<>();
    private final List<ListenerInfo> listenerInfos = new CopyOnWriteArrayList<>();
    private final long startedAt = System.currentTimeMillis();
    private final AtomicInteger totalConnections = new AtomicInteger();
    private final ClientConnections clients = new ClientConnections();
    /** Told about every finished exchange (access log, metrics); copy-on-write, read per request. */
    private final List<ExchangeObserver> observers = new CopyOnWriteArrayList<>();
    /** What a Caddy in front used to do: certificates, ACME, the access log. */
    private final EdgeServices edge = new EdgeServices();
    private final GatewayMetrics metrics = new GatewayMetrics();
    /** The dashboard's: its sign-in sessions and the last gateway errors. */
    private final io.sluice.admin.ui.UiSessions uiSessions = new io.sluice.admin.ui.UiSessions();
    private final io.sluice.admin.ui.RecentErrors recentErrors = new io.sluice.admin.ui.RecentErrors();
    /** Blocking admin work (processes, nvidia-smi, scrapes' HTTP client): never on an event loop. */
    private final ExecutorService blocking = Executors.newCachedThreadPool(new io.netty.util.concurrent.DefaultThreadFactory("sluice-admin", true));
    private final BackendScraper scraper;
    /** The built-in HTTP services ({@code services:} vfs, console): their thread, read the config as it is now. */
    private final io.sluice.http.services.BuiltinServices builtins = new io.sluice.http.services.BuiltinServices(
            () -> this.config.services());
    /** Rate-limit buckets shared with other replicas ({@code rate-limits.store}): Redis connections, made on first use. */
    private final io.sluice.http.ratelimit.RedisLimits limitStores = new io.sluice.http.ratelimit.RedisLimits();
    private final Map<String, ListenerInitializer> initializers = new ConcurrentHashMap<>();
    private final Map<String, Integer> listenerPorts = new ConcurrentHashMap<>();
    private final Reloader reloader = new Reloader(this);
    private final InferenceSupervisor inference;
    /** Sluice's own one-off calls (provider checks, Ollama's model lists); waited for on close. */
    private final io.sluice.http.client.OneShotHttp oneShot;
    private final io.sluice.http.provider.ProviderHealth providerHealth;
    private volatile CompatListener compat;
    private CompatConfig compatConfig;                 // as started: compat changes need a restart
    private ListenerInitializer compatInitializer;
    private volatile Warmup.Result warmup;
    private AdminRoutes adminRoutes;                   // made once: the listeners' and the warm-up's
    private volatile io.sluice.http.provider.Providers providers;
    private volatile int checksAtLoopShutdown = -1;
    /** The OTLP export of the GenAI metrics ({@code telemetry.otlp}), or null. */
    private io.sluice.http.telemetry.OtlpMetrics otlp;

    private SluiceServer(SluiceConfig config) {
        // Jackson reads a time-zone file when its ObjectMapper class initialises. Done here, at start,
        // rather than on the first admin request, which might come when no file descriptor is left.
        io.sluice.core.http.Json.MAPPER.getFactory();
        this.config = config;
        this.webSockets = new io.sluice.http.services.WebSocketServices(config.services());
        this.models = io.sluice.core.model.ModelCatalog.of(config);
        this.providers = io.sluice.http.provider.Providers.of(config, models);
        this.transport = Transport.select(config.server().transport());
        this.boss = transport.newGroup(1, "sluice-accept");
        this.workers = transport.newGroup(config.server().effectiveIoThreads(), "sluice-io");
        this.resolver = UpstreamResolver.create(transport, config.server().dns());
        this.upstreams = new Upstreams(transport.clientChannel(), resolver);
        this.health = new HealthMonitor(workers.next(), new HttpHealthProbe(workers, transport.clientChannel(), resolver, upstreams));
        this.observers.add(metrics);
        this.observers.add(recentErrors);
        if (config.telemetry().otlp() != null) {
            this.otlp = new io.sluice.http.telemetry.OtlpMetrics(config.telemetry().otlp(), version(), this::backend);
            this.observers.add(otlp);
        }
        // A provider's pool is not vLLM: it has no /metrics of its own to scrape.
        this.scraper = new BackendScraper(() -> pools().stream().filter(p -> !p.name().startsWith("@")).toList(),
                workers.next(), blocking, config.admin().scrapeInterval());
        this.adminAccess = new AdminAccess(config.admin()).sessions(uiSessions);
        this.backendManager = new RuntimeBackends(upstreams, health, workers.next(), () -> this.config.admin().drainTimeout());
        this.discovery = new io.sluice.http.discovery.DnsDiscovery(workers.next(),
                UpstreamResolver.builder(transport, config.server().dns()), backendManager);
        this.inference = new InferenceSupervisor(() -> this.config.admin().inference(), upstreams, backendManager,
                workers.next(), blocking);
        this.oneShot = new io.sluice.http.client.OneShotHttp(workers, transport.clientChannel(), resolver, upstreams);
        this.providerHealth = new io.sluice.http.provider.ProviderHealth(oneShot, upstreams, workers.next(),
                config.server().providerCheckInterval(), config.server().providerCheckTimeout());
    }

    /** Starts everything; on failure, whatever was started is stopped again. */
    public static SluiceServer start(SluiceConfig config) throws Exception {
        SluiceServer s = new SluiceServer(config);
        try {
            s.startPools();
            s.startProviders();
            s.edge.start(config, s::addObserver);
            s.adminRoutes = s.adminRoutes();
            if (!config.server().warmup().isZero()) {
                s.warmUp(config.server().warmup(), config.server().warmupUntilSettled());
            }
            s.startListeners();
            s.startCompat();
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
        log.info("sluice {} started ({} transport, {} io threads) from {}", s.version(), s.transport,
                config.server().effectiveIoThreads(), config.source());
        return s;
    }

    private void startPools() throws Exception {
        Upstreams.buildTls(config.pools().values(), config.source()).forEach(upstreams::installTls); // a bad key fails the start here
        Map<String, Integer> providerSimPorts = startProviderSimulators();
        for (PoolConfig pc : config.pools().values()) {
            List<Backend> backends = new ArrayList<>();
            for (BackendConfig bc : pc.backends()) {
                if (bc.isDiscovered()) {
                    continue; // its backends come from DNS: see DnsDiscovery
                }
                String host = bc.host();
                int port = providerSimPorts.getOrDefault(pc.name(), bc.port());
                String id = bc.name();
                if (bc.isSimulated()) {
                    VllmSimulator sim = startSimulator(bc.simulator());
                    port = sim.port();
                    log.info("pool {}: simulated vLLM backend '{}' on {}:{}", pc.name(), bc.simulator().model(), host, port);
                }
                backends.add(new Backend(id, pc.name(), host, port, bc.weight(), bc.tls()));
            }
            BackendPool pool = new BackendPool(pc, backends);
            upstreams.addPool(pool);
            for (Backend b : backends) {
                health.watch(b, pc.health());
            }
        }
        discovery.update(config.pools().values());
    }

    /** The in-process provider simulators of {@code providers.<name>.simulator}: their pool's name to their port. */
    private Map<String, Integer> startProviderSimulators() throws Exception {
        Map<String, Integer> ports = new java.util.HashMap<>();
        for (io.sluice.core.config.ProviderConfig p : config.providers().values()) {
            io.sluice.core.config.ProviderConfig.ProviderSimulatorConfig sc = p.simulator();
            if (sc == null) {
                continue;
            }
            ports.put(p.pool(), startProviderSimulator(p));
        }
        return ports;
    }

    /** Starts the in-process simulator of a provider with {@code simulator:}; @return its port. */
    int startProviderSimulator(io.sluice.core.config.ProviderConfig p) throws InterruptedException {
        io.sluice.core.config.ProviderConfig.ProviderSimulatorConfig sc = p.simulator();
        io.sluice.sim.provider.ProviderSimulator sim = io.sluice.sim.provider.ProviderSimulator.start(
                io.sluice.sim.provider.ProviderSimOptions.builder(io.sluice.sim.provider.ProviderSimulator.Format.valueOf(p.format().name()))
                        .port(sc.port()).apiKey(sc.apiKey()).ttft(sc.ttft()).itl(sc.itl()).build());
        providerSimulators.add(sim);
        log.info("provider {}: simulated {} API on 127.0.0.1:{}", p.name(), p.format().name().toLowerCase(java.util.Locale.ROOT),
                sim.port());
        return sim.port();
    }

    /** Processes providers ask for ({@code auto-start}), and the providers' checks; again after each reload. */
    private void startProviders() {
        inference.services(io.sluice.http.manage.ProviderProcesses.wanted(config.providers()));
        providerHealth.update(config.providers());
    }

    VllmSimulator startSimulator(SimulatorConfig sc) throws Exception {
        VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .port(sc.port())
                .models(List.of(sc.model()))
                .ttft(sc.ttft())
                .itl(sc.itl())
                .maxTokens(sc.maxTokens())
                .maxNumSeqs(sc.maxNumSeqs())
                .kvBlocks(sc.kvBlocks())
                .prefillPerToken(sc.prefillPerToken())
                .batchSlowdown(sc.batchSlowdown())
                .prefixCaching(sc.prefixCaching())
                .transport(config.server().transport())
                .build());
        simulators.add(sim);
        return sim;
    }

    private void startListeners() throws InterruptedException, java.io.IOException {
        for (ListenerConfig lc : config.listeners()) {
            int port = bindPerLoop(lc.host(), lc.port(), initializer(lc, adminRoutes));
            List<RouteInfo> routes = new ArrayList<>();
            lc.routes().forEach(r -> routes.add(new RouteInfo(r.pathPrefix(), r.pool(), r.admin())));
            listenerInfos.add(new ListenerInfo(lc.name(), lc.host(), port, EdgeServices.protocols(lc), List.copyOf(routes)));
            listenerPorts.put(lc.name(), port);
            log.info("listener {} on {}:{} routes {}", lc.name(), lc.host(), port, routes);
        }
    }

    /**
     * Binds a listener: with a native transport, one {@code SO_REUSEPORT} socket per event loop, each
     * serving on its own loop the connections it accepts. The kernel spreads new connections over them,
     * and no connection is handed from an accept thread to another thread (two wake-ups per connection,
     * measured in docs/BENCHMARKS.md). NIO binds one socket and hands off as before.
     *
     * @return the bound port
     */
    private int bindPerLoop(String host, int port, ChannelHandler childHandler)
            throws InterruptedException, java.io.IOException {
        ChannelOption<Boolean> reusePort = transport.reusePort();
        if (reusePort == null) {
            Channel ch = bind(bootstrap(4096, childHandler).group(boss, workers), host, port);
            serverChannels.add(ch);
            return ((InetSocketAddress) ch.localAddress()).getPort();
        }
        if (port != 0) {
            // With SO_REUSEPORT a second Sluice on the same port would silently share it. Not atomic: two
            // started in the same instant could both pass. The kernel allows the sharing only between
            // sockets of one user.
            PortCheck.requireFree(host, port);
        }
        int bound = port;
        for (EventExecutor e : workers) {
            EventLoop loop = (EventLoop) e;
            Channel ch = bind(bootstrap(4096, childHandler).group(loop, loop).option(reusePort, true),
                    host, bound);
            serverChannels.add(ch);
            bound = ((InetSocketAddress) ch.localAddress()).getPort();
        }
        return bound;
    }

    /** Binds, or fails with an error that names the address. */
    private static Channel bind(ServerBootstrap b, String host, int port) throws java.io.IOException {
        ChannelFuture f = b.bind(host, port).awaitUninterruptibly();
        if (f.isSuccess()) {
            return f.channel();
        }
        BindException e = new BindException("cannot listen on " + host + ":" + port + ": " + f.cause().getMessage());
        e.initCause(f.cause());
        throw e;
    }

    /** Every listener's socket options, without event loops; the child handler builds the connection's pipeline. */
    private ServerBootstrap bootstrap(int backlog, ChannelHandler childHandler) {
        return new ServerBootstrap()
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, backlog)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(AcceptPause.INSTANCE)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ReceiveSizes.INSTANCE)
                .childHandler(childHandler);
    }

    /**
     * Runs {@link Warmup} through a private listener, pool and simulated backend, with throwaway
     * metrics, so that none of it shows in the gateway's own status or counters. When a configured
     * listener serves TLS, a second private listener does too (a throwaway self-signed certificate,
     * ALPN h2 and http/1.1), so handshakes and HTTP/2 streams are compiled before the first client.
     */
    private void warmUp(Duration duration, boolean untilSettled) throws Exception {
        boolean tls = config.listeners().stream().anyMatch(l -> l.tls() != null);
        VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.1").port(0)
                .models(List.of("warmup")).ttft(Duration.ZERO).itl(Duration.ZERO).maxTokens(64)
                .transport(config.server().transport()).build());
        List<Channel> servers = new ArrayList<>();
        List<AutoCloseable> resources = new ArrayList<>();
        ClientConnections accepted = new ClientConnections();
        try {
            SluiceConfig wc = ConfigLoader.parse("""
                    listeners:
                      - { name: warmup, host: 127.0.0.1, port: 0, routes: [ { path: /, pool: warmup } ] }
                      - { name: warmup-tls, host: 127.0.0.1, port: 0, tls: { self-signed: true }, routes: [ { path: /, pool: warmup } ] }
                    pools: { warmup: { backends: [ { url: "http://127.0.0.1:%d" } ] } }
                    """.formatted(sim.port()), "warm-up", name -> null);
            PoolConfig pc = wc.pools().get("warmup");
            Upstreams privateUpstreams = new Upstreams(transport.clientChannel(), resolver);
            // Two backends (one simulator), so that the balancer chooses among several as it will in service.
            privateUpstreams.addPool(new BackendPool(pc, List.of(new Backend("warmup-a", "warmup", "127.0.0.1", sim.port(), 1),
                    new Backend("warmup-b", "warmup", "127.0.0.1", sim.port(), 1))));
            GatewayMetrics throwaway = new GatewayMetrics();
            Channel plain = warmUpListener(wc.listeners().get(0), null, privateUpstreams, throwaway, accepted);
            servers.add(plain);
            Warmup.TlsTarget tlsTarget = null;
            if (tls) {
                ListenerConfig lc = wc.listeners().get(1);
                SelfSigned.Certificate cert = SelfSigned.create(SelfSigned.LOCAL_NAMES, Duration.ofDays(1));
                // Not lc.tls() itself: its self-signed flag would warn of a development certificate.
                CertificateStore store = new CertificateStore(lc.name(), new TlsConfig(List.of(), false, null,
                        TlsConfig.DEFAULT_RELOAD, Duration.ZERO), true, null);
                resources.add(store);
                store.put("warm-up", cert.keys().getPrivate(), new X509Certificate[] {cert.cert()}, null);
                Channel server = warmUpListener(lc, store, privateUpstreams, throwaway, accepted);
                servers.add(server);
                SslContext http1 = Tls.clientContext(cert.cert(), ApplicationProtocolNames.HTTP_1_1);
                resources.add(() -> ReferenceCountUtil.release(http1));
                SslContext http2 = Tls.clientContext(cert.cert(), ApplicationProtocolNames.HTTP_2);
                resources.add(() -> ReferenceCountUtil.release(http2));
                tlsTarget = new Warmup.TlsTarget((InetSocketAddress) server.localAddress(), http1, http2);
            }
            long t0 = System.nanoTime();
            JitSettling settling = untilSettled ? JitSettling.ofThisJvm() : null;
            if (untilSettled && settling == null) {
                log.warn("warm-up: this JVM does not report compilation time; warming up for {} (the cap of auto)",
                        io.sluice.core.config.Durations.format(duration));
            }
            Warmup.Result r = Warmup.drive(workers, transport.clientChannel(), (InetSocketAddress) plain.localAddress(),
                    tlsTarget, duration, settling);
            warmup = r;
            log.info("warm-up: {} requests ({} streams, {} over HTTP/2) over {} connections ({} TLS) in {} ms, {} failures{}",
                    r.requests(), r.streams(), r.http2Streams(), r.connections(), r.tlsConnections(),
                    (System.nanoTime() - t0) / 1_000_000, r.failures(),
                    r.settled() ? "; ended when the JIT had settled" : untilSettled ? "; the JIT had not settled by the cap" : "");
        } finally {
            try {
                for (Channel server : servers) {
                    server.close().syncUninterruptibly();
                }
                accepted.closeAll(5, TimeUnit.SECONDS); // a connection the warm-up left behind does not outlive it
                for (AutoCloseable r : resources) {
                    r.close();
                }
            } finally {
                sim.close();
            }
        }
    }

    private Channel warmUpListener(ListenerConfig lc, CertificateStore certificates, Upstreams privateUpstreams,
                                   GatewayMetrics throwaway, ClientConnections accepted) throws Exception {
        // The gateway's admin routes: real requests ask them first (GET /v1/models may be answered from the
        // scrape), so the warm-up takes the same branches. The private routes name no admin route and no
        // scraped pool, so every warm-up request is still proxied to the simulator.
        ListenerInitializer init = new ListenerInitializer(lc, adminRoutes, privateUpstreams, List.of(throwaway),
                new AtomicInteger(), 0, accepted, throwaway.openConnections(lc.name()), certificates, null, Duration.ZERO);
        return bootstrap(1024, init).group(boss, workers)
                .bind(lc.host(), 0).sync().channel();
    }

    /** Listening sockets over all listeners: one per event loop each with a native transport. */
    public int listeningSockets() {
        return serverChannels.size();
    }

    /** What the start-up warm-up did, or null when none was configured. */
    public Warmup.Result warmup() {
        return warmup;
    }

    /**
     * The optional compatibility listener: every path to one pool, bound only while the pool can serve,
     * under the access policy of the listener it mirrors (sharing its rate-limit buckets), so the old
     * port is no way around keys and limits.
     */
    private void startCompat() throws java.io.IOException {
        CompatConfig c = config.compat();
        if (!c.enabled()) {
            return;
        }
        ListenerConfig mirrored = config.listeners().stream().filter(l -> l.name().equals(c.listener())).findFirst().orElse(null);
        ListenerConfig lc = CompatListener.config(c, mirrored);
        ListenerInitializer init = new ListenerInitializer(lc, new AdminRoutes(), upstreams, observers, totalConnections,
                config.server().maxConnections(), clients, metrics.openConnections(lc.name()), null, null,
                config.server().shutdownGrace(), mirrored == null ? null : initializers.get(mirrored.name()), limitStores);
        ServerBootstrap b = bootstrap(1024, init).group(boss, workers);
        init.services(builtins);
        compatConfig = c;
        compatInitializer = init;
        compat = new CompatListener(c, upstreams, b, workers.next());
    }

    /**
     * After a reload: the compat listener takes its mirrored listener's current settings (keys, limits,
     * CORS, trusted proxies), so a key revoked on the main port is revoked on the old one too.
     */
    void compatFollowsMirroredListener() throws java.io.IOException {
        ListenerInitializer mirrored = compatConfig == null || compatConfig.listener() == null ? null
                : initializers.get(compatConfig.listener());
        if (compatInitializer != null && mirrored != null) {
            compatInitializer.apply(CompatListener.config(compatConfig, mirrored.config()), null);
        }
    }

    /** Whether the compatibility listener is accepting connections (false when none is configured). */
    public boolean compatBound() {
        CompatListener c = compat;
        return c != null && c.bound();
    }

    private ListenerInitializer initializer(ListenerConfig lc, AdminRoutes adminRoutes) throws java.io.IOException {
        ListenerInitializer init = new ListenerInitializer(lc, adminRoutes, upstreams, observers,
                totalConnections, config.server().maxConnections(), clients, metrics.openConnections(lc.name()),
                edge.certificates(lc), edge.challenges(),
                config.server().shutdownGrace(), null, limitStores);
        init.models(this::models);
        init.providers(this::providers);
        init.services(builtins);
        init.webSockets(webSockets);
        initializers.put(lc.name(), init);
        return init;
    }

    /** The admin API: every route of every admin feature, behind the access check. */
    private AdminRoutes adminRoutes() {
        AdminRoutes routes = new AdminRoutes().access(adminAccess);
        new StatusEndpoints(this).register(routes);
        new BackendEndpoints(this, backendManager).register(routes);
        GpuEndpoints gpu = new GpuEndpoints(this, new GpuProbe(System.getenv("PATH")), scraper, blocking);
        gpu.register(routes);
        new MetricsEndpoints(this, metrics).extra(gpu).register(routes);
        new ConfigEndpoints(this::reload, blocking).register(routes);
        new InferenceEndpoints(inference).register(routes);
        new io.sluice.admin.ui.DashboardEndpoints(adminAccess, uiSessions, recentErrors).register(routes);
        return routes;
    }

    /** The bound port of a listener, by name; useful when the config asked for port 0. */
    public int port(String listenerName) {
        for (ListenerInfo l : listenerInfos) {
            if (l.name().equals(listenerName)) {
                return l.port();
            }
        }
        throw new IllegalArgumentException("no listener " + listenerName);
    }

    public int port() {
        return listenerInfos.get(0).port();
    }

    private Backend backend(String pool, String id) {
        BackendPool p = upstreams.pool(pool);
        return p == null ? null : p.backends().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
    }

    /** Adds an observer of finished exchanges; it runs on event loops and must not block. */
    public void addObserver(ExchangeObserver observer) {
        observers.add(observer);
    }

    /**
     * Re-reads the config file this gateway was started from and applies it (see {@link Reloader}).
     *
     * @throws io.sluice.core.config.ConfigException when the file is invalid; nothing is changed then
     */
    public Reloader.Result reload() throws Exception {
        return reloader.reload(java.nio.file.Path.of(config.source()));
    }

    SluiceConfig config() {
        return config;
    }

    /** The models the pools serve and their aliases, as of the current config. */
    @Override
    public io.sluice.core.model.ModelCatalog models() {
        return models;
    }

    /** The providers and model groups of the current config. */
    public io.sluice.http.provider.Providers providers() {
        return providers;
    }

    /** Client connections open on {@code listener} now (the metrics' gauge). */
    public long openConnections(String listener) {
        return metrics.openConnections(listener).sum();
    }

    io.sluice.http.services.WebSocketServices webSockets() {
        return webSockets;
    }

    void config(SluiceConfig next) {
        models = io.sluice.core.model.ModelCatalog.of(next);
        providers = io.sluice.http.provider.Providers.of(next, models);
        config = next;
        adminAccess.update(next.admin());
        startProviders();
        limitStores.retain(next.listeners().stream().map(l -> l.access().store()).filter(java.util.Objects::nonNull).toList());
    }

    @Override
    public Map<String, Object> providerHealth() {
        return providerHealth.describe(config.providers());
    }

    /** The provider named {@code ollama}, else the first of Ollama's format; with its process when Sluice runs it. */
    @Override
    public java.util.concurrent.CompletionStage<Map<String, Object>> ollamaStatus() {
        Map<String, io.sluice.core.config.ProviderConfig> all = config.providers();
        io.sluice.core.config.ProviderConfig p = all.get("ollama");
        if (p == null || p.format() != io.sluice.core.provider.WireFormat.OLLAMA) {
            p = all.values().stream().filter(x -> x.format() == io.sluice.core.provider.WireFormat.OLLAMA).findFirst().orElse(null);
        }
        if (p == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        String name = p.name();
        return providerHealth.ollama(p).thenApply(m -> {
            Map<String, Object> process = inference.service(io.sluice.http.manage.ProviderProcesses.id(name));
            if (process != null) {
                m.put("process", process);
            }
            return m;
        });
    }

    /** Sluice's own one-off calls whose connection is not yet closed. */
    public int oneShotCallsInProgress() {
        return oneShot.inProgress();
    }

    Map<String, ListenerInitializer> initializers() {
        return initializers;
    }

    Map<String, Integer> listenerPorts() {
        return listenerPorts;
    }

    EdgeServices edge() {
        return edge;
    }

    HealthMonitor health() {
        return health;
    }

    /** Health checks whose connection is not yet closed. */
    public int healthChecksInProgress() {
        return health.probesInProgress();
    }

    /** Health checks still running when {@link #close} began shutting the event loops down: should be none. */
    public int healthChecksAtLoopShutdown() {
        return checksAtLoopShutdown;
    }

    RuntimeBackends backendManager() {
        return backendManager;
    }

    public io.sluice.http.discovery.DnsDiscovery discovery() {
        return discovery;
    }

    void listenerRoutes(String name, List<RouteInfo> routes) {
        listenerInfos.replaceAll(l -> l.name().equals(name)
                ? new ListenerInfo(l.name(), l.host(), l.port(), l.protocol(), routes) : l);
    }

    /** Client connections stripped down while quiet between requests (see ListenerInitializer). */
    public int dormantConnections() {
        int n = 0;
        for (io.netty.channel.Channel ch : clients) {
            io.sluice.http.timeout.IdleTimeout idle = ch.pipeline().get(io.sluice.http.timeout.IdleTimeout.class);
            if (idle != null && idle.standingIn()) {
                n++;
            }
        }
        return n;
    }

    /** Whether every shared rate-limit store answered its last command (false without any, or before the first answer). */
    public boolean limitStoresUp() {
        return limitStores.allUp();
    }

    /** Whether every shared rate-limit store's connection is open now (false without any). */
    public boolean limitStoresConnected() {
        return limitStores.allConnected();
    }

    public Upstreams upstreams() {
        return upstreams;
    }

    /** The in-process provider simulators, in the order of {@code providers:}. */
    public List<io.sluice.sim.provider.ProviderSimulator> providerSimulators() {
        return providerSimulators;
    }

    public List<VllmSimulator> simulators() {
        return simulators;
    }

    /** The background scrape of the backends' vLLM metrics (tests trigger one with {@link BackendScraper#scrape}). */
    public BackendScraper scraper() {
        return scraper;
    }

    @Override
    public Collection<BackendPool> pools() {
        return upstreams.pools();
    }

    @Override
    public List<ListenerInfo> listeners() {
        return listenerInfos;
    }

    @Override
    public long startedAtMillis() {
        return startedAt;
    }

    /**
     * Reopens the access log file at its path, as after {@code logrotate} renamed it (SIGUSR1).
     *
     * @return false when there is no access log file to reopen
     */
    public boolean reopenLogs() {
        return edge.reopenAccessLog();
    }

    @Override
    public String version() {
        String v = SluiceServer.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /**
     * Graceful stop: stop accepting, close idle client connections, let exchanges in progress finish
     * (each connection closes after its response), and after {@code shutdown-grace} close whatever is left.
     */
    public void drainAndClose() {
        for (Channel ch : serverChannels) {
            ch.close().syncUninterruptibly();
        }
        int open = clients.size();
        clients.forEach(ch -> ch.eventLoop().execute(() -> ch.pipeline().fireUserEventTriggered(ExchangeHandler.Drain.INSTANCE)));
        long deadline = System.nanoTime() + config.server().shutdownGrace().toNanos();
        log.info("draining: {} client connection(s), {} request(s) in flight, up to {}", open, inFlight(),
                io.sluice.core.config.Durations.format(config.server().shutdownGrace()));
        while (inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = inFlight();
        if (left > 0) {
            log.warn("drain deadline reached; closing {} request(s) still in flight", left);
        }
        close();
    }

    private int inFlight() {
        int n = 0;
        for (BackendPool p : upstreams.pools()) {
            for (Backend b : p.backends()) {
                n += b.inFlight();
            }
        }
        return n;
    }

    @Override
    public void close() {
        if (compat != null) {
            compat.close();
        }
        for (Channel ch : serverChannels) {
            ch.close().syncUninterruptibly();
        }
        // Everything that schedules I/O on the workers stops first; health checks are waited for (their
        // connections closed), so that no check writes on a loop being shut down.
        scraper.close();
        providerHealth.close();
        oneShot.close();
        inference.close();
        discovery.close();
        health.close();
        // Client connections close while their loops still run, so every pipeline is taken down
        // (TLS engines and buffers released) rather than dropped with a loop that is going away.
        clients.closeAll(5, TimeUnit.SECONDS);
        // Upstream connections too (pooled idle ones hold a pending read): a channel still open when its
        // io_uring loop is destroyed is closed by the loop's teardown, which can no longer release that
        // read's buffer (a leak report, and "Can't invoke task later as EventLoop rejected it").
        upstreams.channels().close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        edge.close();
        resolver.close(); // its UDP channels live on the workers: closed while they still run
        checksAtLoopShutdown = health.probesInProgress();
        long graceMs = config.server().shutdownGrace().toMillis();
        workers.shutdownGracefully(0, graceMs, TimeUnit.MILLISECONDS).syncUninterruptibly();
        boss.shutdownGracefully(0, graceMs, TimeUnit.MILLISECONDS).syncUninterruptibly();
        upstreams.close(); // the upstream TLS contexts
        for (VllmSimulator sim : simulators) {
            sim.close();
        }
        providerSimulators.forEach(io.sluice.sim.provider.ProviderSimulator::close);
        blocking.shutdownNow();
        builtins.close(); // after the loops: no request can give it work any more
        limitStores.close(); // Lettuce's thread; after the loops, whose requests may still have been asking
        if (otlp != null) {
            otlp.close(); // after the loops: every exchange has ended and is in the last export
        }
    }
}
