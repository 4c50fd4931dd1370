package io.sluice.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket server on loopback for the tunnel tests: echoes text and binary frames (pings are
 * answered by Netty), and obeys text commands: {@code close:CODE} closes with that code,
 * {@code abort} drops the TCP connection, {@code stream:N} sends N bytes in 64 KiB binary frames as
 * fast as its channel takes them. A path starting {@code /refuse} is answered 403. Every handshake's
 * request headers and every close code received are recorded.
 */
final class WsBackend implements AutoCloseable {
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final Channel server;
    final ConcurrentLinkedQueue<HttpHeaders> handshakes = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> uris = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Integer> closeCodes = new ConcurrentLinkedQueue<>();
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final AtomicLong streamed = new AtomicLong();
    volatile boolean streamBlocked;
    volatile boolean streamDone;
    volatile String subprotocolAnswer;

    WsBackend() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        open.incrementAndGet();
                        ch.closeFuture().addListener(f -> closed.incrementAndGet());
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), new Gate(),
                                new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/").checkStartsWith(true).subprotocols("realtime,other")
                                        .maxFramePayloadLength(8 << 20).handleCloseFrames(false).build()),
                                new Frames());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Records the handshake, refuses {@code /refuse}. */
    private final class Gate extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest req) {
                handshakes.add(new DefaultHttpHeaders().set(req.headers()));
                uris.add(req.uri());
                if (req.uri().startsWith("/refuse")) {
                    req.release();
                    DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN,
                            Unpooled.copiedBuffer("{\"refused\":true}", StandardCharsets.UTF_8));
                    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, 16);
                    ctx.writeAndFlush(r);
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    private final class Frames extends ChannelInboundHandlerAdapter {
        private long toStream;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            WebSocketFrame f = (WebSocketFrame) msg;
            if (f instanceof CloseWebSocketFrame c) {
                closeCodes.add(c.statusCode());
                ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode(), "bye")).addListener(ChannelFutureListener.CLOSE);
                f.release();
                return;
            }
            if (f instanceof TextWebSocketFrame t) {
                String s = t.text();
                if (s.startsWith("close:")) {
                    f.release();
                    ctx.writeAndFlush(new CloseWebSocketFrame(Integer.parseInt(s.substring(6)), "as asked"))
                            .addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                if (s.equals("abort")) {
                    f.release();
                    ctx.close();
                    return;
                }
                if (s.startsWith("stream:")) {
                    f.release();
                    toStream = Long.parseLong(s.substring(7));
                    stream(ctx);
                    return;
                }
            }
            if (f instanceof TextWebSocketFrame || f instanceof BinaryWebSocketFrame) {
                ctx.writeAndFlush(f); // echo
                return;
            }
            f.release();
        }

        private void stream(ChannelHandlerContext ctx) {
            while (toStream > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(64 * 1024, toStream);
                toStream -= n;
                ByteBuf b = ctx.alloc().buffer(n).writeZero(n);
                ctx.writeAndFlush(new BinaryWebSocketFrame(b)).addListener(x -> {
                    if (x.isSuccess()) {
                        streamed.addAndGet(n);
                    }
                });
            }
            streamBlocked = toStream > 0;
            streamDone = toStream == 0;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && toStream > 0) {
                stream(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
}
