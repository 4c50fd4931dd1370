package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.Router;
import io.sluice.http.access.AccessHandler;
import io.sluice.http.access.AccessPolicy;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.core.observe.ExchangeObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.netty.channel.group.ChannelGroup;

/**
 * The pipeline of a plain HTTP/1.1 connection:
 * {@code idle -> guard -> codec -> dispatch -> [access] -> [admin] -> proxy}. The dispatcher routes; the admin handler takes
 * {@code admin: true} routes and passes the rest on to the proxy.
 */
final class ListenerInitializer extends ChannelInitializer<Channel> {
    private final ListenerConfig config;
    private final Router router;
    private final AdminRoutes adminRoutes;
    private final Upstreams upstreams;
    private final boolean hasAdmin;
    private final List<ExchangeObserver> observers;

    private final AtomicInteger listenerConnections = new AtomicInteger();
    private final AtomicInteger totalConnections;
    private final int maxTotal;
    private final ChannelGroup clients;
    private final AccessPolicy access;

    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, AtomicInteger totalConnections, int maxTotal,
                        ChannelGroup clients) throws java.io.IOException {
        this.access = AccessPolicy.of(config);
        this.observers = observers;
        this.totalConnections = totalConnections;
        this.maxTotal = maxTotal;
        this.clients = clients;
        this.config = config;
        this.router = new Router(config.routes());
        this.adminRoutes = adminRoutes;
        this.upstreams = upstreams;
        this.hasAdmin = config.routes().stream().anyMatch(RouteConfig::admin);
    }

    @Override
    protected void initChannel(Channel ch) {
        int onListener = listenerConnections.incrementAndGet();
        int total = totalConnections.incrementAndGet();
        ch.closeFuture().addListener(f -> {
            listenerConnections.decrementAndGet();
            totalConnections.decrementAndGet();
        });
        if ((config.maxConnections() > 0 && onListener > config.maxConnections()) || (maxTotal > 0 && total > maxTotal)) {
            ch.close(); // over the limit: refused before any byte is read; open connections are not touched
            return;
        }
        clients.add(ch);
        long idleMs = config.idleTimeout().toMillis();
        if (idleMs > 0) {
            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS));
        }
        RequestGuard guard = new RequestGuard(config.headerTimeout().toMillis());
        ch.pipeline()
                .addLast("guard", guard)
                .addLast("codec", new ServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength((int) config.maxInitialLine())
                        .setMaxHeaderSize((int) config.maxHeaderSize())
                        .setMaxChunkSize(64 * 1024)))
                .addLast("dispatch", new RequestDispatcher(router, config, guard, observers));
        if (access != null) {
            ch.pipeline().addLast("access", new AccessHandler(access));
        }
        if (hasAdmin) {
            ch.pipeline().addLast("admin", new AdminHandler(adminRoutes));
        }
        ch.pipeline().addLast("proxy", new ProxyHandler(upstreams, "http"));
    }
}
