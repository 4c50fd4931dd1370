package io.sluice.http.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.resolver.AddressResolverGroup;
import io.sluice.core.backend.Backend;
import io.sluice.http.timeout.IdleTimeout;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * Keep-alive connections to one backend, owned by one event loop (as in Zuul 2): a request and its
 * upstream connection share a thread, so the pool needs no locks and bytes never cross threads.
 *
 * <p>Idle connections are reused most-recently-used first, at most {@code maxIdle} are kept, and an
 * idle one is closed after {@link #IDLE_TIMEOUT_SECONDS}: shorter than uvicorn's default 5 s
 * keep-alive, so Sluice, not vLLM, closes idle connections and a request is not sent on a connection
 * the server is closing at that moment.
 */
public final class UpstreamPool {
    static final int IDLE_TIMEOUT_SECONDS = 4;
    /** The TLS context a connection was made with; null for plain ones. */
    static final AttributeKey<UpstreamTls> TLS = AttributeKey.valueOf(UpstreamPool.class, "tls");

    private final BackendConnections parent;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final InetSocketAddress address;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private IdleTimeout.Limits idleLimits;    // shared by this pool's connections; remade when a reload changes them

    UpstreamPool(BackendConnections parent, EventLoop loop, Class<? extends Channel> channelClass,
                 AddressResolverGroup<InetSocketAddress> resolver) {
        this.parent = parent;
        this.loop = loop;
        // A name stays unresolved here: each connect resolves it through the TTL-honouring cache.
        this.address = UpstreamResolver.address(parent.backend().host(), parent.backend().port());
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(resolver)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        UpstreamTls tls = ch.attr(TLS).get();
                        if (tls != null) {
                            // Handshake bounded like the TCP connect, and counted from its end.
                            ch.pipeline().addLast("ssl", tls.newHandler(ch.alloc(), parent.backend(), connectTimeoutMillis()));
                        }
                        ch.pipeline()
                                .addLast("idle", new IdleTimeout(idleLimits()))
                                .addLast("codec", new UpstreamCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(8192)
                                        .setMaxHeaderSize(64 * 1024)
                                        .setMaxChunkSize(64 * 1024)))
                                .addLast("host", hostRewrite)
                                .addLast("upstream", new UpstreamHandler());
                    }
                });
    }

    public Backend backend() {
        return parent.backend();
    }

    private int connectTimeoutMillis() {
        return (int) parent.config().connectTimeout().toMillis();
    }

    /**
     * Sets the {@code Host} of each request by the pool's {@code host-header}, read per request (a
     * reload applies at once, pooled connections included); {@code pass} leaves the client's.
     */
    private final ChannelOutboundHandlerAdapter hostRewrite = new HostRewrite();

    @ChannelHandler.Sharable
    private final class HostRewrite extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpRequest req) {
                String host = Upstreams.hostHeader(parent.config().hostHeader(), parent.backend());
                if (host != null) {
                    req.headers().set(HttpHeaderNames.HOST, host);
                }
            }
            ctx.write(msg, promise);
        }
    }

    /** The stream-idle timeout (a reload may change it) and the idle connection's timeout, on this pool's loop. */
    private IdleTimeout.Limits idleLimits() {
        long streamIdleMillis = parent.config().streamIdleTimeout().toMillis();
        IdleTimeout.Limits l = idleLimits;
        if (l == null || !l.readerIdleIs(streamIdleMillis)) {
            l = idleLimits = new IdleTimeout.Limits(streamIdleMillis, IDLE_TIMEOUT_SECONDS * 1000L, 0);
        }
        return l;
    }

    /** A live idle connection bound to {@code owner}, or null when a new one must be opened. */
    public Channel acquireIdle(UpstreamHandler.Listener owner) {
        assert loop.inEventLoop();
        Channel ch;
        while ((ch = idle.pollLast()) != null) {
            if (ch.isActive() && parent.backend().tls() && ch.attr(TLS).get() != parent.tls()) {
                ch.close(); // made with TLS settings a reload has replaced since: not reused
            } else if (ch.isActive()) {
                // Opened before a reload may have changed the stream-idle timeout: apply the current one.
                ((IdleTimeout) ch.pipeline().get("idle")).limits(idleLimits());
                bind(ch, owner);
                return ch;
            }
        }
        return null;
    }

    /**
     * Opens a new connection; the caller binds it with {@link #bind} once connected. To an
     * {@code https://} backend, "connected" means the TLS handshake succeeded: the future fails with
     * an {@link UpstreamTlsException} when it did not, so nothing is ever written to a half-open
     * TLS connection.
     */
    public ChannelFuture connect() {
        boolean secure = parent.backend().tls();
        UpstreamTls tls = secure ? parent.tls() : null;
        // The bootstrap belongs to this loop alone, so setting the reloadable option here is safe.
        bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis());
        bootstrap.attr(TLS, tls); // what initChannel builds its SslHandler from, and how a reuse checks it
        ChannelFuture f = bootstrap.connect(address);
        Channel ch = f.channel();
        if (f.isDone() && !f.isSuccess() && !ch.isRegistered()) {
            // No channel could be created (no descriptor left). Netty fails that on its global executor;
            // report it on this pool's loop, where the caller's state lives.
            return new DefaultChannelPromise(ch, loop).setFailure(f.cause());
        }
        parent.countOpened();
        io.netty.channel.group.ChannelGroup all = parent.channels();
        if (all != null) {
            all.add(ch); // removed again when it closes
        }
        // Once per connection, not per release: a pooled connection serves many requests.
        ch.closeFuture().addListener(x -> idle.remove(ch));
        if (!secure) {
            return f;
        }
        String name = tls == null ? null : tls.serverName(parent.backend());
        ChannelPromise ready = ch.newPromise();
        f.addListener(c -> {
            if (!c.isSuccess()) {
                ready.setFailure(c.cause());
                return;
            }
            if (tls == null) { // unreachable with loaded configs: every pool with an https backend has a context
                ready.setFailure(new UpstreamTlsException(parent.backend().id(), "no TLS context for pool '"
                        + parent.backend().pool() + "'", null));
                ch.close();
                return;
            }
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            if (ssl == null) { // closed already (the pipeline is emptied on close)
                ready.setFailure(new UpstreamTlsException(parent.backend().id(),
                        "the backend closed the connection during the handshake", null));
                return;
            }
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    ready.setSuccess();
                } else {
                    ready.setFailure(new UpstreamTlsException(parent.backend().id(), UpstreamTls.reason(h.cause(), name),
                            h.cause()));
                    ch.close();
                }
            });
        });
        return ready;
    }

    public static void bind(Channel ch, UpstreamHandler.Listener owner) {
        ch.pipeline().get(UpstreamHandler.class).bind(owner);
    }

    /** Returns a connection whose exchange ended cleanly; anything else must be closed instead. */
    public void release(Channel ch) {
        assert loop.inEventLoop();
        ch.pipeline().get(UpstreamHandler.class).unbind();
        if (!ch.isActive() || idle.size() >= parent.config().maxIdlePerBackend()) {
            ch.close();
            return;
        }
        ch.config().setAutoRead(true); // read while idle so a close by the server is noticed at once
        idle.addLast(ch);
    }

    /** Closes a connection that must not be reused (aborted, failed, or not keep-alive). */
    public static void discard(Channel ch) {
        ch.pipeline().get(UpstreamHandler.class).unbind();
        ch.close();
    }

    /**
     * Turns a connection that just answered 101 into a raw byte stream ending in {@code handler}: the
     * pool's handlers go, the codec's encoder passes bytes through at once, and the codec itself is
     * removed in a later task (its decoder, already switched, hands on whatever follows the 101).
     * The connection no longer belongs to the pool; closing it is the new owner's job.
     */
    public static void handOver(Channel ch, ChannelHandler handler) {
        io.netty.channel.ChannelPipeline p = ch.pipeline();
        p.get(UpstreamHandler.class).unbind();
        p.get(UpstreamCodec.class).upgrade();
        p.addLast("tunnel", handler);
        p.remove(UpstreamHandler.class);
        p.remove("host");
        if (p.get("idle") != null) {
            p.remove("idle");
        }
        ch.eventLoop().execute(() -> {
            if (p.get(UpstreamCodec.class) != null) {
                p.remove(UpstreamCodec.class);
            }
        });
    }

    public int idleCount() {
        return idle.size();
    }
}
