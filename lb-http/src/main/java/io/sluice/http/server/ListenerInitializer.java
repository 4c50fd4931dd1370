package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.core.route.RouteTable;
import io.sluice.http.access.AccessHandler;
import io.sluice.http.access.AccessPolicy;
import io.sluice.http.h2.Http2Pipeline;
import io.sluice.http.h2.PriorKnowledge;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.http.timeout.IdleTimeout;
import io.sluice.http.tls.AcmeChallenges;
import io.sluice.http.tls.AlpnHandler;
import io.sluice.http.tls.CertificateStore;
import io.sluice.http.tls.Hsts;
import io.sluice.http.tls.HttpsRedirect;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pipeline of a client connection. In front: TLS (SNI, then ALPN picks h2 or http/1.1), or on a
 * plain listener the h2c prior-knowledge sniffer. An HTTP/1.1 connection gets the raw-bytes
 * {@code guard} and the strict {@code codec}; an HTTP/2 connection a child channel per stream. Then,
 * per request stream alike: {@code dispatch -> [access] -> admin -> proxy}. The dispatcher routes;
 * the access handler checks keys and limits; the admin handler takes {@code admin: true} routes and
 * passes the rest on to the proxy.
 */
final class ListenerInitializer extends ChannelInitializer<Channel> {
    private final ListenerConfig config;
    private final RouteTable routes;
    private final AdminRoutes adminRoutes;
    private final Upstreams upstreams;
    private final List<ExchangeObserver> observers;
    private final CertificateStore certificates;
    private final AcmeChallenges challenges;
    private final AtomicInteger listenerConnections = new AtomicInteger();
    private final AtomicInteger totalConnections;
    private final int maxTotal;
    private final ChannelGroup clients;
    private final AccessPolicy access;

    /**
     * @param certificates the listener's certificates, null for a plain listener
     * @param challenges   pending ACME HTTP-01 tokens, answered by redirecting listeners
     */
    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, AtomicInteger totalConnections, int maxTotal,
                        ChannelGroup clients, CertificateStore certificates, AcmeChallenges challenges)
            throws IOException {
        this.config = config;
        this.routes = new RouteTable(config.routes());
        this.adminRoutes = adminRoutes;
        this.upstreams = upstreams;
        this.observers = observers;
        this.totalConnections = totalConnections;
        this.maxTotal = maxTotal;
        this.clients = clients;
        this.certificates = certificates;
        this.challenges = challenges;
        this.access = AccessPolicy.of(config);
    }

    /** The routes new requests on this listener use; replaced by a reload. */
    RouteTable routes() {
        return routes;
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
            ch.pipeline().addLast("idle", new IdleTimeout(0, idleMs));
        }
        if (certificates != null) {
            ch.pipeline().addLast("sni", certificates.newSniHandler())
                    .addLast("alpn", new AlpnHandler(this::http1, config.http2().enabled() ? this::http2 : null));
        } else if (config.redirectToHttps() != 0) {
            ch.pipeline().addLast("codec", codec())
                    .addLast("redirect", new HttpsRedirect(config.redirectToHttps(), challenges));
        } else if (config.http2().enabled()) {
            ch.pipeline().addLast("sniff", new PriorKnowledge(this::http1, this::http2));
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
        RequestGuard guard = new RequestGuard(config.headerTimeout().toMillis());
        p.addLast("guard", guard).addLast("codec", codec());
        requestChain(p, guard);
    }

    private void http2(ChannelPipeline p) {
        Http2Pipeline.configure(p, config.http2(), stream -> requestChain(stream, null));
    }

    /** The handlers of one request stream: an HTTP/1.1 connection (with its guard), or one HTTP/2 stream. */
    private void requestChain(ChannelPipeline p, RequestGuard guard) {
        long hsts = certificates == null ? 0 : config.tls().hsts().toSeconds();
        if (hsts > 0) {
            p.addLast("hsts", new Hsts(hsts));
        }
        p.addLast("dispatch", new RequestDispatcher(routes, config, guard, observers));
        if (access != null) {
            p.addLast("access", new AccessHandler(access));
        }
        // Always there: a reload may add admin routes, and it answers GET /v1/models on proxied ones.
        p.addLast("admin", new AdminHandler(adminRoutes));
        p.addLast("proxy", new ProxyHandler(upstreams, certificates != null ? "https" : "http"));
    }
}
