package io.sluice.sim.provider;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection: records each request, asks the format for its reply, and serves requests one at a
 * time (pipelined ones wait, without pausing reads, so a client that disconnects is noticed at once).
 */
final class ProviderHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProviderHandler.class);

    private final ProviderSimulator sim;
    private final Dialect dialect;
    private final ArrayDeque<FullHttpRequest> pending = new ArrayDeque<>();
    private Emission current;
    private boolean parked;

    ProviderHandler(ProviderSimulator sim, Dialect dialect) {
        this.sim = sim;
        this.dialect = dialect;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.add((FullHttpRequest) msg);
        drain(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        parked = true;
        for (FullHttpRequest r; (r = pending.poll()) != null; ) {
            r.release();
        }
        if (current != null) {
            current.connectionClosed(ctx.channel().hasAttr(ProviderSimulator.SERVER_CLOSED));
            current = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("closing {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    void finished(ChannelHandlerContext ctx, Emission e, ChannelFuture last) {
        current = null;
        if (e.keepAlive) {
            drain(ctx);
        } else {
            parked = true;
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void drain(ChannelHandlerContext ctx) {
        while (current == null && !parked && !pending.isEmpty()) {
            FullHttpRequest req = pending.poll();
            try {
                dispatch(ctx, req);
            } finally {
                req.release();
            }
        }
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!keepAlive) {
            parked = true;
        }
        sim.record(req);
        if (!req.decoderResult().isSuccess()) {
            parked = true;
            send(ctx, Reply.now(HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
                    "Bad Request".getBytes(StandardCharsets.UTF_8)), false);
            return;
        }
        Reply reply = dialect.handle(new Call(req));
        if (reply.immediate()) {
            send(ctx, reply, keepAlive);
            return;
        }
        current = new Emission(sim, this, ctx, reply, keepAlive);
        current.start();
    }

    static ChannelFuture send(ChannelHandlerContext ctx, Reply reply, boolean keepAlive) {
        ByteBuf buf = reply.body == null ? Unpooled.EMPTY_BUFFER : ctx.alloc().buffer(reply.body.length)
                .writeBytes(reply.body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status, buf);
        if (reply.contentType != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType);
        }
        reply.headers.forEach(r.headers()::set);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        return f;
    }

    /** Abortive close: SO_LINGER 0 makes the kernel send RST and drop anything unsent. */
    static void reset(Channel ch) {
        ch.attr(ProviderSimulator.SERVER_CLOSED).set(Boolean.TRUE);
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
        ch.close();
    }
}
