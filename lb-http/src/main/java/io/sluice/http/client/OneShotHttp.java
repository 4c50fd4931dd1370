package io.sluice.http.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.sluice.core.backend.Backend;
import io.sluice.http.pool.UpstreamResolver;
import io.sluice.http.pool.UpstreamTls;
import io.sluice.http.pool.Upstreams;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One {@code GET} on a fresh connection to a backend, with its pool's TLS context and Host as its
 * requests have (as {@link io.sluice.http.health.HttpHealthProbe} does): the status and the first bytes
 * of the body. For the few calls Sluice makes of its own (provider checks, Ollama's model lists), not
 * for proxying.
 *
 * <p>A call ends when its connection is closed, not merely answered, and {@link #close} waits for the
 * calls in progress: no call is left writing on an event loop being shut down.
 */
public final class OneShotHttp implements AutoCloseable {
    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Upstreams upstreams;
    private volatile boolean closed;
    /** Calls started and not yet ended; guarded by {@code this} for wait/notify. */
    private int inProgress;
    private volatile long longestTimeoutMillis = 1000;
    /** Connections of the calls in progress: {@link #close} cuts them rather than waiting out their timeouts. */
    private final java.util.Set<Channel> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The answer: status, the body up to the bound asked for (UTF-8), and whether it was cut there. */
    public record Response(int status, String body, boolean truncated) {
    }

    /** A call that got no HTTP answer; the message says why ({@code connect: …}, {@code timeout after …}, {@code TLS: …}). */
    public static final class Failure extends IOException {
        public Failure(String message) {
            super(message);
        }
    }

    public OneShotHttp(EventLoopGroup group, Class<? extends Channel> channelClass,
                       AddressResolverGroup<InetSocketAddress> resolver, Upstreams upstreams) {
        this.group = group;
        this.channelClass = channelClass;
        this.resolver = resolver;
        this.upstreams = upstreams;
    }

    /**
     * {@code GET path} on {@code target} with {@code headers}; completes with the response, or
     * exceptionally with a {@link Failure} when no answer came within {@code timeout}.
     */
    public CompletionStage<Response> get(Backend target, String path, Map<String, String> headers, Duration timeout,
                                         int maxBodyBytes) {
        synchronized (this) {
            if (closed || group.isShuttingDown()) {
                return CompletableFuture.failedFuture(new Failure("the gateway is shutting down"));
            }
            inProgress++;
        }
        CompletableFuture<Response> ended = new CompletableFuture<>();
        ended.whenComplete((r, e) -> ended());
        try {
            call(target, path, headers, Math.max(1, timeout.toMillis()), maxBodyBytes, ended);
        } catch (RuntimeException e) {
            ended.completeExceptionally(new Failure("call did not start: " + e));
        }
        return ended;
    }

    private void call(Backend target, String path, Map<String, String> headers, long timeoutMs, int maxBodyBytes,
                      CompletableFuture<Response> ended) {
        longestTimeoutMillis = Math.max(longestTimeoutMillis, timeoutMs);
        UpstreamTls tls = target.tls() && upstreams != null ? upstreams.tls(target.pool()) : null;
        if (target.tls() && tls == null) {
            ended.completeExceptionally(new Failure("TLS: no TLS context for pool '" + target.pool() + "'"));
            return;
        }
        CompletableFuture<Response> result = new CompletableFuture<>();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .resolver(resolver)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMs))
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), target, timeoutMs));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new Reader(result, maxBodyBytes, tls, target));
                    }
                });
        ChannelFuture connect = b.connect(UpstreamResolver.address(target.host(), target.port()));
        Channel ch = connect.channel();
        open.add(ch);
        if (closed) {
            ch.close(); // close() may have run before the add: it would not have seen this one
        }
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new Failure("connect: " + f.cause().getMessage()));
                return;
            }
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (tls == null) {
                send(ch, target, path, headers, result);
            } else if (ssl == null) {
                result.completeExceptionally(new Failure("TLS: the server closed the connection during the handshake"));
            } else {
                ssl.handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        send(ch, target, path, headers, result);
                    } else {
                        result.completeExceptionally(new Failure("TLS: " + UpstreamTls.reason(h.cause(), tls.serverName(target))));
                    }
                });
            }
        });
        if (!ch.isRegistered() && connect.isDone()) {
            open.remove(ch);
            result.whenComplete((r, e) -> complete(ended, r, e)); // no channel, no loop: nothing to close
            return;
        }
        io.netty.util.concurrent.ScheduledFuture<?> timer;
        try {
            timer = ch.eventLoop().schedule(() -> {
                result.completeExceptionally(new Failure("timeout after " + timeoutMs + "ms"));
            }, timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            timer = null;
            result.completeExceptionally(new Failure("the gateway is shutting down"));
        }
        io.netty.util.concurrent.ScheduledFuture<?> t = timer;
        result.whenComplete((r, e) -> {
            if (t != null) {
                t.cancel(false);
            }
            ch.close().addListener(x -> {
                open.remove(ch);
                complete(ended, r, e);
            });
        });
    }

    private static void complete(CompletableFuture<Response> ended, Response r, Throwable e) {
        if (e != null) {
            ended.completeExceptionally(e);
        } else {
            ended.complete(r);
        }
    }

    private void send(Channel ch, Backend target, String path, Map<String, String> headers,
                      CompletableFuture<Response> result) {
        if (result.isDone() || !ch.isActive() || ch.eventLoop().isShuttingDown()) {
            result.completeExceptionally(new Failure("connection gone before the request was sent"));
            return;
        }
        String host = upstreams == null ? null : upstreams.hostHeader(target);
        if (host == null) {
            host = Upstreams.authority(target);
        }
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.USER_AGENT, "sluice")
                .set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON);
        headers.forEach(req.headers()::set);
        ch.writeAndFlush(req).addListener(w -> {
            if (!w.isSuccess()) {
                result.completeExceptionally(new Failure("write: " + w.cause().getMessage()));
            }
        });
    }

    /** Collects status and the first bytes of the body; every buffer is released by the base class. */
    private static final class Reader extends SimpleChannelInboundHandler<HttpObject> {
        private final CompletableFuture<Response> result;
        private final int max;
        private final UpstreamTls tls;
        private final Backend target;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private int status;
        private boolean truncated;

        Reader(CompletableFuture<Response> result, int max, UpstreamTls tls, Backend target) {
            this.result = result;
            this.max = max;
            this.tls = tls;
            this.target = target;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
            }
            if (msg instanceof HttpContent c) {
                ByteBuf content = c.content();
                int take = Math.min(content.readableBytes(), max - body.size());
                if (take > 0) {
                    byte[] bytes = new byte[take];
                    content.getBytes(content.readerIndex(), bytes);
                    body.write(bytes, 0, take);
                }
                truncated |= take < content.readableBytes();
            }
            if (msg instanceof LastHttpContent) {
                result.complete(new Response(status, body.toString(StandardCharsets.UTF_8), truncated));
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new Failure("connection closed before a response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            boolean handshaking = tls != null && ssl != null && !ssl.handshakeFuture().isSuccess();
            result.completeExceptionally(new Failure(handshaking
                    ? "TLS: " + UpstreamTls.reason(cause, tls.serverName(target)) : String.valueOf(cause.getMessage())));
            ctx.close();
        }
    }

    private synchronized void ended() {
        if (--inProgress == 0) {
            notifyAll();
        }
    }

    /** Calls whose connection is not yet closed. */
    public synchronized int inProgress() {
        return inProgress;
    }

    /** Refuses new calls, cuts those in progress and waits until their connections are closed. Not from an event loop. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(longestTimeoutMillis + 1000);
        synchronized (this) {
            closed = true;
        }
        open.forEach(Channel::close);
        synchronized (this) {
            while (inProgress > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
