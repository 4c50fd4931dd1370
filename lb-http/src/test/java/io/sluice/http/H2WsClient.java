package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * WebSockets over HTTP/2 (RFC 8441) for the tests: one h2c (prior knowledge) connection, on which
 * each {@link #open} is an extended CONNECT stream that, once answered 200, carries client WebSocket
 * frames (masked, as RFC 6455 requires) in DATA frames. What a stream receives is copied out at once,
 * as {@link WsClient} does: {@code String}, {@code byte[]}, {@link WsClient.Close}, {@link WsClient.Pong};
 * the stream's end arrives as {@link #END} and a reset as {@link Reset}.
 */
final class H2WsClient implements AutoCloseable {
    static final Object END = "<end of stream>";

    record Reset(long code) {
    }

    final Channel connection;
    final CompletableFuture<Http2Settings> settings = new CompletableFuture<>();

    H2WsClient(int port) throws InterruptedException {
        connection = new Bootstrap().group(WsClient.GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof Http2SettingsFrame s) {
                                            settings.complete(s.settings());
                                        }
                                        ReferenceCountUtil.release(msg);
                                    }
                                });
                    }
                }).connect("127.0.0.1", port).sync().channel();
    }

    /** The server's first SETTINGS. */
    Http2Settings serverSettings() throws Exception {
        return settings.get(10, TimeUnit.SECONDS);
    }

    /** Opens an extended CONNECT stream to {@code path} with {@code protocol}; see {@link Ws#status}. */
    Ws open(String path, String protocol, String subprotocols) throws Exception {
        serverSettings(); // the server's SETTINGS must have been seen before using :protocol
        Ws ws = new Ws();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(ws.framing, new WebSocket13FrameEncoder(true),
                        new WebSocket13FrameDecoder(false, false, 8 << 20), ws.frames);
            }
        }).open().sync().getNow();
        ws.stream = stream;
        Http2Headers h = new DefaultHttp2Headers().method("CONNECT").scheme("http").path(path).authority("127.0.0.1");
        if (protocol != null) {
            h.set(":protocol", protocol);
        }
        h.set("sec-websocket-version", "13");
        if (subprotocols != null) {
            h.set("sec-websocket-protocol", subprotocols);
        }
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, false)).sync();
        return ws;
    }

    /** Opens a WebSocket stream and waits for its 200. */
    Ws open(String path) throws Exception {
        Ws ws = open(path, "websocket", null);
        Http2Headers answer = ws.status.get(10, TimeUnit.SECONDS);
        if (!"200".contentEquals(answer.status())) {
            throw new AssertionError("extended CONNECT answered " + answer);
        }
        return ws;
    }

    @Override
    public void close() {
        connection.close().syncUninterruptibly();
    }

    /** One WebSocket stream. */
    static final class Ws {
        final CompletableFuture<Http2Headers> status = new CompletableFuture<>();
        final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final StringBuilder errorBody = new StringBuilder();
        final AtomicLong binaryBytes = new AtomicLong();
        Http2StreamChannel stream;
        private boolean open;

        /** DATA frames to and from bytes once the 200 came; HEADERS, resets and the end recorded. */
        final ChannelDuplexHandler framing = new ChannelDuplexHandler() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame hf) {
                    open = "200".contentEquals(hf.headers().status());
                    if (hf.headers().status() != null) {
                        status.complete(hf.headers());
                    }
                    if (hf.isEndStream()) {
                        received.add(END);
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    boolean end = d.isEndStream();
                    if (open && d.content().isReadable()) {
                        ctx.fireChannelRead(d.content());
                    } else {
                        errorBody.append(d.content().toString(StandardCharsets.UTF_8));
                        d.release();
                    }
                    if (end) {
                        received.add(END);
                    }
                } else if (msg instanceof Http2ResetFrame r) {
                    received.add(new Reset(r.errorCode()));
                    status.completeExceptionally(new IllegalStateException("reset " + r.errorCode()));
                } else {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof Http2ResetFrame r) {
                    received.add(new Reset(r.errorCode()));
                    status.completeExceptionally(new IllegalStateException("reset " + r.errorCode()));
                }
                ReferenceCountUtil.release(evt);
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                if (msg instanceof ByteBuf b) {
                    ctx.write(new DefaultHttp2DataFrame(b, false), promise);
                } else {
                    ctx.write(msg, promise);
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                status.completeExceptionally(new IllegalStateException("stream closed"));
                ctx.fireChannelInactive();
            }
        };

        final SimpleChannelInboundHandler<WebSocketFrame> frames = new SimpleChannelInboundHandler<>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                if (f instanceof TextWebSocketFrame t) {
                    received.add(t.text());
                } else if (f instanceof BinaryWebSocketFrame b) {
                    binaryBytes.addAndGet(b.content().readableBytes());
                    if (b.content().readableBytes() < 1024) {
                        received.add(ByteBufUtil.getBytes(b.content()));
                    }
                } else if (f instanceof CloseWebSocketFrame c) {
                    received.add(new WsClient.Close(c.statusCode()));
                } else if (f instanceof PongWebSocketFrame p) {
                    received.add(new WsClient.Pong(ByteBufUtil.getBytes(p.content())));
                }
            }
        };

        void send(WebSocketFrame f) {
            stream.writeAndFlush(f).syncUninterruptibly();
        }

        void text(String s) {
            send(new TextWebSocketFrame(s));
        }

        /** Ends the client's side of the stream (END_STREAM on an empty DATA frame). */
        void endStream() {
            stream.writeAndFlush(new DefaultHttp2DataFrame(true)).syncUninterruptibly();
        }

        /** Sends a close frame and ends the stream in the same DATA frame, as Chromium 156 does. */
        void closeAndEnd(int code) {
            io.netty.channel.embedded.EmbeddedChannel encoder = new io.netty.channel.embedded.EmbeddedChannel(
                    new io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder(true));
            encoder.writeOutbound(new CloseWebSocketFrame(code, "done"));
            ByteBuf bytes = stream.alloc().buffer();
            for (ByteBuf part; (part = encoder.readOutbound()) != null; part.release()) {
                bytes.writeBytes(part);
            }
            encoder.finishAndReleaseAll();
            stream.writeAndFlush(new DefaultHttp2DataFrame(bytes, true)).syncUninterruptibly();
        }

        void reset() {
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).syncUninterruptibly();
        }

        Object next() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            if (o == null) {
                throw new AssertionError("nothing received within 10s");
            }
            return o;
        }
    }
}
