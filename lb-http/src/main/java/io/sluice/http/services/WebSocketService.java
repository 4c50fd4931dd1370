package io.sluice.http.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.exchange.ExchangeTarget;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.http.h2.ExtendedConnect;
import io.sluice.http.websocket.WebSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The target of a request to a built-in WebSocket service: the handshake answered here (the 101 is
 * Sluice's own), then the connection detached from HTTP ({@link RequestContext#detach}) into Netty's
 * WebSocket frame codec and the service's {@link Hub}. {@code GET .../stats} on the agent bridge
 * answers its counters as JSON.
 */
final class WebSocketService implements ExchangeTarget {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ChannelHandlerContext ctx;
    private final String name;
    private final Hub hub;

    WebSocketService(ChannelHandlerContext ctx, String name, Hub hub) {
        this.ctx = ctx;
        this.name = name;
        this.hub = hub;
    }

    @Override
    public void onRequest(RequestContext rc, HttpRequest head) {
        try {
            answer(rc, head);
        } finally {
            ReferenceCountUtil.release(head);
        }
    }

    private void answer(RequestContext rc, HttpRequest head) {
        if (hub == null) {
            rc.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE, "service_disabled",
                    "service '" + name + "' is not enabled"));
            return;
        }
        if (hub instanceof AgentBridgeHub bridge && rc.path().endsWith("/stats")) {
            if (!HttpMethod.GET.equals(head.method()) && !HttpMethod.HEAD.equals(head.method())) {
                rc.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                        "method_not_allowed", "stats: GET only"));
                return;
            }
            byte[] body = bridge.stats().getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    ctx.alloc().buffer(body.length).writeBytes(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
            rc.writeAndFlush(r);
            return;
        }
        if (!WebSockets.isUpgrade(head.headers())
                || ctx.channel() instanceof Http2StreamChannel && !ExtendedConnect.isWebSocket(ctx.channel())) {
            FullHttpResponse r = GatewayErrors.response(ctx.alloc(), HttpResponseStatus.UPGRADE_REQUIRED, "upgrade_required",
                    "service '" + name + "' is a WebSocket (HTTP/1.1 GET with Upgrade: websocket, or HTTP/2 extended CONNECT)");
            r.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            rc.writeAndFlush(r);
            return;
        }
        String wrong = WebSockets.invalid(head);
        if (wrong != null) {
            rc.writeAndFlush(GatewayErrors.response(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "bad_request", wrong));
            return;
        }
        FullHttpResponse switched = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        switched.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, WebSockets.accept(head.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY)));
        rc.write(switched);
        Socket socket = new Socket(new Peer(ctx.channel()), hub);
        Runnable end = rc.detach(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                int max = hub.maxMessage();
                // The bound of a connection's unwritable backlog: past it, the peer is dropped (Peer.send).
                int high = Math.max(256 * 1024, 4 * max);
                ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(high / 2, high));
                WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder().expectMaskedFrames(true)
                        .allowExtensions(false).maxFramePayloadLength(max).build();
                // The encoder in front of the decoder: the decoder's own close frame (1009) passes through it.
                ch.pipeline().addLast("ws-encoder", new WebSocket13FrameEncoder(false))
                        .addLast("ws-decoder", new WebSocket13FrameDecoder(decoder))
                        .addLast("ws-aggregator", new WebSocketFrameAggregator(max))
                        .addLast("service", socket);
            }
        });
        socket.started(end);
        ctx.channel().config().setAutoRead(true);
        ctx.flush();
    }

    @Override
    public void onRequestContent(HttpContent content) {
        content.release();
    }

    @Override
    public void onClientClosed() {
    }

    @Override
    public void abort() {
    }

    /** The frames of one service connection, after the handshake. */
    private static final class Socket extends ChannelInboundHandlerAdapter {
        private final Peer peer;
        private final Hub hub;
        private Runnable end;
        private boolean closed;

        Socket(Peer peer, Hub hub) {
            this.peer = peer;
            this.hub = hub;
        }

        void started(Runnable end) {
            this.end = end;
            if (closed || !peer.channel.isActive()) {
                finish();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof TextWebSocketFrame t) {
                    JsonNode n;
                    try {
                        n = JSON.readTree(new ByteBufInputStream(t.content()));
                    } catch (IOException e) {
                        n = null;
                    }
                    if (n instanceof ObjectNode o) {
                        hub.onMessage(peer, o);
                    } else {
                        peer.error("each message is a JSON object with a \"type\"");
                    }
                } else if (msg instanceof PingWebSocketFrame ping) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                } else if (msg instanceof CloseWebSocketFrame c) {
                    peer.close(c.statusCode() < 0 ? 1000 : c.statusCode(), "");
                } else if (msg instanceof BinaryWebSocketFrame) {
                    peer.error("text frames only (JSON)");
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
                peer.close(WebSockets.MESSAGE_TOO_BIG, "message too big");
            } else {
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed = true;
            finish();
            ctx.fireChannelInactive();
        }

        private void finish() {
            if (end == null) {
                return; // detach is still returning: started() finishes
            }
            Runnable e = end;
            end = null;
            hub.closed(peer);
            e.run();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt);
        }
    }
}
