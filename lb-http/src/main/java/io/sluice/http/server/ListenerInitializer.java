package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.route.RouteTable;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.core.observe.ExchangeObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a plain HTTP/1.1 connection:
 * {@code idle -> codec -> dispatch -> admin -> proxy}. The dispatcher routes; the admin handler takes
 * {@code admin: true} routes and passes the rest on to the proxy.
 */
final class ListenerInitializer extends ChannelInitializer<Channel> {
    private final ListenerConfig config;
    private final RouteTable routes;
    private final AdminRoutes adminRoutes;
    private final Upstreams upstreams;
    private final List<ExchangeObserver> observers;

    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers) {
        this.observers = observers;
        this.config = config;
        this.routes = new RouteTable(config.routes());
        this.adminRoutes = adminRoutes;
        this.upstreams = upstreams;
    }

    /** The routes new requests on this listener use; replaced by a reload. */
    RouteTable routes() {
        return routes;
    }

    @Override
    protected void initChannel(Channel ch) {
        long idleMs = config.idleTimeout().toMillis();
        if (idleMs > 0) {
            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS));
        }
        ch.pipeline()
                .addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength((int) config.maxInitialLine())
                        .setMaxHeaderSize((int) config.maxHeaderSize())
                        .setMaxChunkSize(64 * 1024)))
                .addLast("dispatch", new RequestDispatcher(routes, config.name(), observers))
                // Always there: a reload may add admin routes, and it answers GET /v1/models on proxied ones.
                .addLast("admin", new AdminHandler(adminRoutes))
                .addLast("proxy", new ProxyHandler(upstreams, "http"));
    }
}
