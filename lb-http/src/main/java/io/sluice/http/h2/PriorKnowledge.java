package io.sluice.http.h2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * On a plain listener, tells h2c with prior knowledge (RFC 9113 §3.3) from HTTP/1.1 by the
 * connection preface, then replaces itself with the matching pipeline; the bytes it looked at are
 * passed on to that pipeline. No h2c Upgrade: curl, h2load and gRPC-style clients use prior knowledge.
 */
public final class PriorKnowledge extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
    private final Consumer<ChannelPipeline> http1;
    private final Consumer<ChannelPipeline> http2;
    private final long timeoutNanos;
    private long start;
    private ChannelHandlerContext ctx;
    private final Watch deadline = new Watch() {
        @Override
        protected void check(long now) {
            if (now - start >= timeoutNanos) {
                Sweeper.disarm(this);
                ctx.close(); // nothing, or a partial preface, within the header timeout
            }
        }
    };

    /** @param timeoutMillis the connection must have shown which protocol it speaks by then (0: no limit) */
    public PriorKnowledge(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2, long timeoutMillis) {
        this.http1 = http1;
        this.http2 = http2;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (timeoutNanos > 0) {
            start = System.nanoTime();
            Sweeper.of(ctx.executor()).arm(deadline, timeoutNanos);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        Sweeper.disarm(deadline);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Sweeper.disarm(deadline);
        super.channelInactive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
        boolean prefix = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), n);
        if (prefix && n < PREFACE.readableBytes()) {
            return; // could still be either: wait for more
        }
        // Add the chosen handlers behind this one, then leave: the buffered bytes flow on to them.
        ChannelPipeline p = ctx.pipeline();
        String name = ctx.name();
        if (prefix) {
            http2.accept(p);
        } else {
            http1.accept(p);
        }
        p.remove(name);
    }
}
