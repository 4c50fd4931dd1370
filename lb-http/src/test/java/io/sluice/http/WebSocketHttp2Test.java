package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WebSockets over HTTP/2 (RFC 8441) are not offered: the server's SETTINGS do not enable extended
 * CONNECT, so clients use HTTP/1.1; an extended CONNECT sent anyway gets an answer (an error status
 * or a reset), never a tunnel or a hang.
 */
class WebSocketHttp2Test {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes: [ { path: /ws/, pool: echo } ]
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                    """)
            .build();

    @Test
    void extendedConnectIsNotAdvertisedAndAnExtendedConnectIsAnswered() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            CompletableFuture<Http2Settings> settings = new CompletableFuture<>();
            Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
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
                    }).connect("127.0.0.1", sluice.port()).sync().channel();
            Http2Settings s = settings.get(10, TimeUnit.SECONDS);
            assertNotNull(s);
            assertTrue(s.connectProtocolEnabled() == null || !s.connectProtocolEnabled(),
                    "SETTINGS_ENABLE_CONNECT_PROTOCOL must not be offered: " + s);

            CompletableFuture<Object> answer = new CompletableFuture<>();
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof Http2HeadersFrame h) {
                        answer.complete(h.headers().status().toString());
                    } else if (msg instanceof Http2ResetFrame r) {
                        answer.complete("reset " + r.errorCode());
                    }
                    ReferenceCountUtil.release(msg);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    answer.complete("closed");
                }
            }).open().sync().getNow();
            DefaultHttp2Headers h = new DefaultHttp2Headers();
            h.method("CONNECT").scheme("http").path("/ws/x").authority("127.0.0.1");
            h.set(":protocol", "websocket");
            h.set("sec-websocket-version", "13");
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, false));
            Object got = answer.get(10, TimeUnit.SECONDS);
            System.out.println("extended CONNECT over h2 answered: " + got);
            assertNotEquals("200", got, "no tunnel over HTTP/2");
            connection.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
