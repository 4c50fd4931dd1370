package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Netty WebSocket client for the tests. What it receives is copied out of the frames at once (so
 * nothing stays retained): {@code String} for text, {@code byte[]} for binary, {@link Pong} and
 * {@link Close}; binary bytes are also counted.
 */
final class WsClient implements AutoCloseable {
    record Close(int code) {
    }

    record Pong(byte[] data) {
    }

    static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final AtomicLong binaryBytes = new AtomicLong();
    final CompletableFuture<Void> handshake = new CompletableFuture<>();
    final Channel ch;

    private WsClient(URI uri, HttpHeaders headers, String subprotocols, boolean countOnly) throws InterruptedException {
        this(uri, headers, subprotocols, countOnly, null);
    }

    private WsClient(URI uri, HttpHeaders headers, String subprotocols, boolean countOnly,
                     io.netty.handler.ssl.SslContext tls) throws InterruptedException {
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder().webSocketUri(uri)
                .customHeaders(headers).subprotocol(subprotocols).handleCloseFrames(false).dropPongFrames(false)
                .maxFramePayloadLength(8 << 20).handshakeTimeoutMillis(10_000).build();
        ch = new Bootstrap().group(GROUP).channel(NioSocketChannel.class).option(ChannelOption.AUTO_READ, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        if (tls != null) {
                            c.pipeline().addLast(tls.newHandler(c.alloc(), uri.getHost(), uri.getPort()));
                        }
                        c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16),
                                new WebSocketClientProtocolHandler(config), new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        if (f instanceof TextWebSocketFrame t) {
                                            received.add(t.text());
                                        } else if (f instanceof BinaryWebSocketFrame) {
                                            binaryBytes.addAndGet(f.content().readableBytes());
                                            if (!countOnly) {
                                                received.add(ByteBufUtil.getBytes(f.content()));
                                            }
                                        } else if (f instanceof PongWebSocketFrame) {
                                            received.add(new Pong(ByteBufUtil.getBytes(f.content())));
                                        } else if (f instanceof CloseWebSocketFrame c) {
                                            received.add(new Close(c.statusCode()));
                                        }
                                    }

                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                        if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                                            handshake.complete(null);
                                        }
                                        ctx.fireUserEventTriggered(evt);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        handshake.completeExceptionally(cause);
                                        ctx.close();
                                    }
                                });
                    }
                }).connect(uri.getHost(), uri.getPort()).sync().channel();
        ch.closeFuture().addListener(f -> handshake.completeExceptionally(new IllegalStateException("closed")));
    }

    /** Connects and completes the handshake. */
    static WsClient open(int port, String path) throws Exception {
        return open(port, path, new DefaultHttpHeaders(), null, false);
    }

    static WsClient open(int port, String path, HttpHeaders headers, String subprotocols, boolean countOnly) throws Exception {
        WsClient c = new WsClient(URI.create("ws://127.0.0.1:" + port + path), headers, subprotocols, countOnly);
        c.handshake.get(10, TimeUnit.SECONDS);
        return c;
    }

    /** Over TLS (wss://), trusting any certificate. */
    static WsClient openTls(int port, String path) throws Exception {
        io.netty.handler.ssl.SslContext tls = io.netty.handler.ssl.SslContextBuilder.forClient()
                .trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE).build();
        WsClient c = new WsClient(URI.create("wss://127.0.0.1:" + port + path), new DefaultHttpHeaders(), null, false, tls);
        c.handshake.get(10, TimeUnit.SECONDS);
        return c;
    }

    void send(WebSocketFrame f) {
        ch.writeAndFlush(f).syncUninterruptibly();
    }

    void text(String s) {
        send(new TextWebSocketFrame(s));
    }

    Object next() throws InterruptedException {
        Object o = received.poll(10, TimeUnit.SECONDS);
        if (o == null) {
            throw new AssertionError("nothing received within 10s");
        }
        return o;
    }

    boolean closedWithin(long seconds) throws InterruptedException {
        return ch.closeFuture().await(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        ch.close().syncUninterruptibly();
    }
}
