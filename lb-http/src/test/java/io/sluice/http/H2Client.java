package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A minimal HTTP/2 (h2c prior knowledge) test client on Netty: one connection, streams as child
 * channels, each of which can stop reading (autoRead off) so its flow-control window fills up.
 */
final class H2Client implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel connection;

    /** @param windowSize the client's per-stream receive window: small, so a paused stream fills it quickly */
    H2Client(int port, int windowSize) throws InterruptedException {
        connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(windowSize)).build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof io.netty.handler.codec.http2.Http2GoAwayFrame) {
                                    goAway.countDown();
                                }
                                io.netty.util.ReferenceCountUtil.release(msg);
                            }
                        });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    /** One response being received: its status, each content part's text and arrival time. */
    static final class Stream extends SimpleChannelInboundHandler<HttpObject> {
        volatile int status;
        volatile Http2StreamChannel channel;
        final List<String> parts = new CopyOnWriteArrayList<>();
        final List<Long> nanos = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
            }
            if (msg instanceof HttpContent c && c.content().isReadable()) {
                parts.add(c.content().toString(StandardCharsets.UTF_8));
                nanos.add(System.nanoTime());
            }
            if (msg instanceof LastHttpContent) {
                ended.countDown();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.countDown();
            ctx.fireChannelInactive();
        }

        String text() {
            return String.join("", parts);
        }

        long events() {
            return text().lines().filter(l -> l.startsWith("data: ")).count();
        }

        void pause() {
            channel.eventLoop().execute(() -> channel.config().setAutoRead(false));
        }

        void resume() {
            channel.eventLoop().execute(() -> {
                channel.config().setAutoRead(true);
                channel.read();
            });
        }

        /** Resets the stream (RST_STREAM CANCEL), as a browser tab closing does. */
        void reset() {
            channel.close();
        }

        boolean awaitEnd(long seconds) throws InterruptedException {
            return ended.await(seconds, TimeUnit.SECONDS);
        }
    }

    Stream post(String path, String json) throws InterruptedException {
        return post(path, json, new String[0]);
    }

    /** @param headers extra request headers, {@code "name: value"} each */
    Stream post(String path, String json, String... headers) throws InterruptedException {
        Stream s = new Stream();
        Http2StreamChannel ch = new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel c) {
                c.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), s);
            }
        }).open().sync().getNow();
        s.channel = ch;
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
                Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        req.headers().set(HttpHeaderNames.HOST, "localhost");
        req.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        req.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, req.content().readableBytes());
        for (String h : headers) {
            int colon = h.indexOf(':');
            req.headers().add(h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), h.substring(colon + 1).trim());
        }
        ch.writeAndFlush(req).sync();
        return s;
    }

    /** Sends a request head announcing {@code length} body bytes and only {@code part} of them, never the end. */
    Stream postPartial(String path, int length, String part) throws InterruptedException {
        Stream s = new Stream();
        Http2StreamChannel ch = new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel c) {
                c.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), s);
            }
        }).open().sync().getNow();
        s.channel = ch;
        io.netty.handler.codec.http.HttpRequest req = new io.netty.handler.codec.http.DefaultHttpRequest(
                HttpVersion.HTTP_1_1, HttpMethod.POST, path);
        req.headers().set(HttpHeaderNames.HOST, "localhost");
        req.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        req.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        ch.write(req);
        ch.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                Unpooled.copiedBuffer(part, StandardCharsets.UTF_8))).sync();
        return s;
    }

    /** Sends a whole request and, in the same flush, resets its stream: a client that changed its mind at once. */
    void postAndReset(String path, String json) throws InterruptedException {
        Http2StreamChannel ch = new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel c) {
                c.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
            }
        }).open().sync().getNow();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
                Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        req.headers().set(HttpHeaderNames.HOST, "localhost");
        req.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        req.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, req.content().readableBytes());
        ch.eventLoop().submit(() -> {
            ch.write(req); // not flushed: the close below flushes HEADERS, DATA and RST_STREAM together
            ch.close();
            return null;
        }).sync();
        ch.closeFuture().sync();
    }

    /** Counted down when the server sends GOAWAY on this connection. */
    final CountDownLatch goAway = new CountDownLatch(1);

    Channel connection() {
        return connection;
    }

    @Override
    public void close() {
        connection.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
