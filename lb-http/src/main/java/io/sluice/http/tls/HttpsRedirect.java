package io.sluice.http.tls;

import io.netty.handler.timeout.IdleStateEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * A plain listener that only sends clients to HTTPS: 308 (method and body preserved) to the same
 * host and path on the HTTPS port, except ACME HTTP-01 challenges, which it answers.
 */
public final class HttpsRedirect extends ChannelInboundHandlerAdapter {
    private final int httpsPort;
    private final AcmeChallenges challenges;
    private final Runnable onHead;
    private final Runnable onEnd;
    private boolean keepAlive = true;

    /** @param onHead told when a request head was decoded, {@code onEnd} when the request was read (head timeout) */
    public HttpsRedirect(int httpsPort, AcmeChallenges challenges, Runnable onHead, Runnable onEnd) {
        this.httpsPort = httpsPort;
        this.challenges = challenges;
        this.onHead = onHead;
        this.onEnd = onEnd;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close(); // nothing here is ever in progress for long: idle means done
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest req) {
                onHead.run();
                keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
                ctx.write(respond(req));
            }
            if (msg instanceof LastHttpContent) {
                onEnd.run();
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private FullHttpResponse respond(HttpRequest req) {
        String uri = req.uri();
        int q = uri.indexOf('?');
        String answer = challenges == null ? null : challenges.answer(q < 0 ? uri : uri.substring(0, q));
        if (answer != null) {
            return response(HttpResponseStatus.OK, Unpooled.copiedBuffer(answer, StandardCharsets.US_ASCII), null);
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty() || !uri.startsWith("/")) {
            return response(HttpResponseStatus.BAD_REQUEST, Unpooled.copiedBuffer("need a Host header\n", StandardCharsets.US_ASCII), null);
        }
        return response(HttpResponseStatus.PERMANENT_REDIRECT, Unpooled.EMPTY_BUFFER, "https://" + authority(host) + uri);
    }

    private String authority(String host) {
        String name = host;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            name = end < 0 ? host : host.substring(0, end + 1);
        } else if (host.indexOf(':') >= 0) {
            name = host.substring(0, host.indexOf(':'));
        }
        return httpsPort == 443 ? name : name + ":" + httpsPort;
    }

    private FullHttpResponse response(HttpResponseStatus status, ByteBuf body, String location) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (location != null) {
            r.headers().set(HttpHeaderNames.LOCATION, location);
        }
        if (body.isReadable()) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
        }
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
