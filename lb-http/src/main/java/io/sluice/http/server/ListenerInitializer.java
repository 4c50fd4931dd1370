package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.route.Router;
import io.sluice.http.h2.Http2Pipeline;
import io.sluice.http.h2.PriorKnowledge;
import io.sluice.http.pool.Upstreams;
import io.sluice.http.proxy.ProxyHandler;
import io.sluice.http.tls.AcmeChallenges;
import io.sluice.http.tls.AlpnHandler;
import io.sluice.http.tls.CertificateStore;
import io.sluice.http.tls.Hsts;
import io.sluice.http.tls.HttpsRedirect;
import io.sluice.core.observe.ExchangeObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a client connection. Per request, HTTP/1.1 connection or HTTP/2 stream alike:
 * {@code dispatch -> admin -> proxy}. The dispatcher routes; the admin handler takes
 * {@code admin: true} routes and passes the rest on to the proxy. In front of that: TLS (SNI, then
 * ALPN picks h2 or http/1.1), or on a plain listener the h2c prior-knowledge sniffer.
 */
final class ListenerInitializer extends ChannelInitializer<Channel> {
    private final ListenerConfig config;
    private final Router router;
    private final AdminRoutes adminRoutes;
    private final Upstreams upstreams;
    private final boolean hasAdmin;
    private final List<ExchangeObserver> observers;
    private final CertificateStore certificates;
    private final AcmeChallenges challenges;

    /**
     * @param certificates the listener's certificates, null for a plain listener
     * @param challenges   pending ACME HTTP-01 tokens, answered by redirecting listeners
     */
    ListenerInitializer(ListenerConfig config, AdminRoutes adminRoutes, Upstreams upstreams,
                        List<ExchangeObserver> observers, CertificateStore certificates, AcmeChallenges challenges) {
        this.observers = observers;
        this.config = config;
        this.router = new Router(config.routes());
        this.adminRoutes = adminRoutes;
        this.upstreams = upstreams;
        this.hasAdmin = config.routes().stream().anyMatch(RouteConfig::admin);
        this.certificates = certificates;
        this.challenges = challenges;
    }

    @Override
    protected void initChannel(Channel ch) {
        long idleMs = config.idleTimeout().toMillis();
        if (idleMs > 0) {
            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS));
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

    private HttpServerCodec codec() {
        return new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength((int) config.maxInitialLine())
                .setMaxHeaderSize((int) config.maxHeaderSize())
                .setMaxChunkSize(64 * 1024));
    }

    private void http1(ChannelPipeline p) {
        p.addLast("codec", codec());
        requestChain(p);
    }

    private void http2(ChannelPipeline p) {
        Http2Pipeline.configure(p, config.http2(), this::requestChain);
    }

    /** The handlers of one request stream: an HTTP/1.1 connection, or one HTTP/2 stream. */
    private void requestChain(ChannelPipeline p) {
        long hsts = certificates == null ? 0 : config.tls().hsts().toSeconds();
        if (hsts > 0) {
            p.addLast("hsts", new Hsts(hsts));
        }
        p.addLast("dispatch", new RequestDispatcher(router, config.name(), observers));
        if (hasAdmin) {
            p.addLast("admin", new AdminHandler(adminRoutes));
        }
        p.addLast("proxy", new ProxyHandler(upstreams, certificates != null ? "https" : "http"));
    }
}
