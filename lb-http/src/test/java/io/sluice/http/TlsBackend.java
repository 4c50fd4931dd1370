package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TLS terminator on loopback in front of a plain backend (a {@code VllmSimulator}), as a TLS-only
 * vLLM deployment or a cloud endpoint looks to Sluice. It records, per request, the SNI of its
 * connection, the {@code Host} it carried, the client certificate's subject and the connection id,
 * and counts successful handshakes.
 */
final class TlsBackend implements AutoCloseable {
    record Seen(int connection, String sni, String host, String clientSubject, String path, String xCase) {
    }

    private static final AttributeKey<String> SNI = AttributeKey.valueOf("test-sni");
    private static final AttributeKey<String> CLIENT = AttributeKey.valueOf("test-client");
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    final AtomicInteger handshakes = new AtomicInteger();
    final AtomicInteger failedHandshakes = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();

    /** @param context owned by the caller; {@code plainPort} is the backend behind */
    TlsBackend(SslContext context, int plainPort) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        int id = connections.incrementAndGet();
                        ch.pipeline().addLast(new SniHandler((String host, io.netty.util.concurrent.Promise<SslContext> p) -> {
                            ch.attr(SNI).set(host == null ? "" : host);
                            return p.setSuccess(context);
                        }), new HttpServerCodec(), new Relay(id, plainPort));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** What the request with {@code X-Case: id} looked like here; null if it never arrived. */
    Seen find(String xCase) {
        for (Seen s : seen) {
            if (xCase.equals(s.xCase())) {
                return s;
            }
        }
        return null;
    }

    List<Seen> health() {
        List<Seen> out = new ArrayList<>();
        for (Seen s : seen) {
            if ("/health".equals(s.path())) {
                out.add(s);
            }
        }
        return out;
    }

    private final class Relay extends ChannelInboundHandlerAdapter {
        private final int id;
        private final int plainPort;
        private Channel upstream;
        private final List<Object> pending = new ArrayList<>();
        private boolean closed;

        Relay(int id, int plainPort) {
            this.id = id;
            this.plainPort = plainPort;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e) {
                if (!e.isSuccess()) {
                    failedHandshakes.incrementAndGet();
                    return;
                }
                handshakes.incrementAndGet();
                try {
                    X509Certificate peer = (X509Certificate) ctx.pipeline().get(SslHandler.class).engine().getSession()
                            .getPeerCertificates()[0];
                    ctx.channel().attr(CLIENT).set(peer.getSubjectX500Principal().getName());
                } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
                    ctx.channel().attr(CLIENT).set("");
                }
                Channel down = ctx.channel();
                new Bootstrap().group(ctx.channel().eventLoop()).channel(NioSocketChannel.class)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new HttpClientCodec(), new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext c, Object msg) {
                                        down.writeAndFlush(msg);
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext c) {
                                        down.close();
                                    }
                                });
                            }
                        })
                        .connect("127.0.0.1", plainPort).addListener(f -> {
                            Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                            if (!f.isSuccess() || closed) {
                                ch.close();
                                down.close();
                                return;
                            }
                            upstream = ch;
                            pending.forEach(ch::write);
                            pending.clear();
                            ch.flush();
                        });
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest r) {
                seen.add(new Seen(id, ctx.channel().attr(SNI).get(), r.headers().get(HttpHeaderNames.HOST),
                        ctx.channel().attr(CLIENT).get(), r.uri(), r.headers().get("x-case")));
            }
            if (upstream == null) {
                pending.add(msg);
            } else {
                upstream.writeAndFlush(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed = true;
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
            if (upstream != null) {
                upstream.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // failed handshakes end here
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
