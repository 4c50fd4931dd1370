package io.sluice.http.h2;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;

/**
 * Removes the {@code x-http2-*} headers the HTTP/2-to-HTTP/1.1 conversion adds (stream id,
 * scheme, ...): they describe the client's hop and must not reach the upstream. On a WebSocket's
 * extended CONNECT stream ({@link ExtendedConnect}) it sets the HTTP/1.1 upgrade headers.
 */
@Sharable
final class StreamRequestCleaner extends ChannelInboundHandlerAdapter {
    static final StreamRequestCleaner INSTANCE = new StreamRequestCleaner();
    /** Read once: {@code values()} copies the enum's array on every call, here once per stream. */
    private static final io.netty.util.AsciiString[] CONVERSION_HEADERS = java.util.Arrays.stream(ExtensionHeaderNames.values())
            .map(ExtensionHeaderNames::text).toArray(io.netty.util.AsciiString[]::new);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            HttpHeaders h = req.headers();
            for (io.netty.util.AsciiString name : CONVERSION_HEADERS) {
                h.remove(name);
            }
            if (ExtendedConnect.isWebSocket(ctx.channel())) {
                // The HTTP/1.1 upgrade an extended CONNECT stands for (the conversion drops connection headers).
                h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            }
        }
        ctx.fireChannelRead(msg);
    }
}
