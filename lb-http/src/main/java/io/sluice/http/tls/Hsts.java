package io.sluice.http.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;

/** Adds {@code Strict-Transport-Security} to every response of a TLS listener (kept if the backend set one). */
public final class Hsts extends ChannelOutboundHandlerAdapter {
    private static final AsciiString HEADER = AsciiString.cached("strict-transport-security");
    private final String value;

    public Hsts(long maxAgeSeconds) {
        this.value = "max-age=" + maxAgeSeconds;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse resp && !resp.headers().contains(HEADER)) {
            resp.headers().set(HEADER, value);
        }
        ctx.write(msg, promise);
    }
}
