package io.sluice.http.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.HealthConfig;
import io.sluice.core.health.HealthProbe;
import io.sluice.core.net.LocalResources;
import io.sluice.http.pool.UpstreamResolver;
import io.sluice.http.pool.UpstreamTls;
import io.sluice.http.pool.Upstreams;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET <path>} on a fresh connection: healthy on a 2xx within the timeout.
 *
 * <p>A fresh connection per check (as HAProxy does) tests what a new request needs: that the
 * backend accepts connections and answers, not that an old pooled socket is still open.
 */
public final class HttpHealthProbe implements HealthProbe {
    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Upstreams upstreams; // TLS contexts and Host settings of the pools; null: plain HTTP only

    public HttpHealthProbe(EventLoopGroup group, Class<? extends Channel> channelClass,
                           AddressResolverGroup<InetSocketAddress> resolver) {
        this(group, channelClass, resolver, null);
    }

    /**
     * @param upstreams an {@code https://} backend is checked over TLS with its pool's context, as its
     *                  requests are (same verification, SNI and name); the Host follows the pool's {@code host-header}
     */
    public HttpHealthProbe(EventLoopGroup group, Class<? extends Channel> channelClass,
                           AddressResolverGroup<InetSocketAddress> resolver, Upstreams upstreams) {
        this.group = group;
        this.channelClass = channelClass;
        this.resolver = resolver;
        this.upstreams = upstreams;
    }

    @Override
    public CompletionStage<Result> probe(Backend backend, HealthConfig config) {
        if (group.isShuttingDown()) {
            return CompletableFuture.completedFuture(Result.inconclusive("the gateway is shutting down"));
        }
        UpstreamTls tls = backend.tls() && upstreams != null ? upstreams.tls(backend.pool()) : null;
        if (backend.tls() && tls == null) {
            return CompletableFuture.completedFuture(Result.failed("TLS: no TLS context for pool '" + backend.pool() + "'"));
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        long timeoutMs = config.timeout().toMillis();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .resolver(resolver) // the same lookups and cache as the proxy's connections
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeoutMs))
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), backend, Math.max(1, timeoutMs)));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            private int status;

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof HttpResponse) {
                                    status = ((HttpResponse) msg).status().code();
                                }
                                if (msg instanceof LastHttpContent) {
                                    result.complete(status >= 200 && status < 300
                                            ? Result.ok("HTTP " + status)
                                            : Result.failed("HTTP " + status));
                                    ctx.close();
                                }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                result.complete(Result.failed("connection closed before a response"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                result.complete(Result.failed(tls != null && !handshaken(ctx.channel())
                                        ? "TLS: " + UpstreamTls.reason(cause, tls.serverName(backend)) : cause.toString()));
                                ctx.close();
                            }
                        });
                    }
                });
        ChannelFuture connect = b.connect(UpstreamResolver.address(backend.host(), backend.port()));
        Channel ch = connect.channel();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.complete(LocalResources.exhausted(f.cause())
                        ? Result.inconclusive("no socket for the check: " + f.cause().getMessage())
                        : Result.failed("connect: " + f.cause().getMessage()));
                return;
            }
            if (tls == null) {
                send(ch, backend, config, result);
                return;
            }
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl == null) { // closed already (the pipeline is emptied on close)
                result.complete(Result.failed("TLS: the backend closed the connection during the handshake"));
                return;
            }
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    send(ch, backend, config, result);
                } else {
                    result.complete(Result.failed("TLS: " + UpstreamTls.reason(h.cause(), tls.serverName(backend))));
                }
            });
        });
        if (!ch.isRegistered() && connect.isDone()) {
            // No channel at all (no descriptor for one): the listener above has the result, and there is
            // no event loop to time the check on or channel to close.
            return result;
        }
        io.netty.util.concurrent.ScheduledFuture<?> timer;
        try {
            timer = ch.eventLoop().schedule(() -> {
                result.complete(Result.failed("timeout after " + timeoutMs + "ms"));
            }, timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            timer = null; // the loop is shutting down and closes the channel
            result.complete(Result.inconclusive("the gateway is shutting down"));
        }
        // The check ends when its connection is closed, not merely answered: a shutdown that waits for
        // the checks then finds no probe channel left on the loops it stops.
        CompletableFuture<Result> ended = new CompletableFuture<>();
        io.netty.util.concurrent.ScheduledFuture<?> t = timer;
        result.whenComplete((r, e) -> {
            if (t != null) {
                t.cancel(false);
            }
            ch.close().addListener(x -> ended.complete(r));
        });
        return ended;
    }

    private static boolean handshaken(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        return ssl == null || ssl.handshakeFuture().isSuccess();
    }

    private void send(Channel ch, Backend backend, HealthConfig config, CompletableFuture<Result> result) {
        if (result.isDone() || !ch.isActive() || ch.eventLoop().isShuttingDown()) {
            // Timed out meanwhile, or the loop is going away: write nothing, so nothing can be left
            // unreleased in a channel that dies with its loop.
            result.complete(Result.inconclusive("connection gone before the check was sent"));
            return;
        }
        String host = upstreams == null ? null : upstreams.hostHeader(backend);
        if (host == null) {
            host = backend.tls() ? Upstreams.authority(backend) : backend.host() + ":" + backend.port();
        }
        // No body buffer of its own (EMPTY_BUFFER): the only allocation is the encoder's, which the
        // pipeline releases if the write fails.
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.path(),
                Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.USER_AGENT, "sluice-health");
        ch.writeAndFlush(req).addListener(w -> {
            if (!w.isSuccess()) {
                result.complete(Result.failed("write: " + w.cause()));
            }
        });
    }
}
