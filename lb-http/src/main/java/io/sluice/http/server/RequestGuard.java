package io.sluice.http.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits before the HTTP decoder and watches the raw bytes of each request head, for two things the
 * decoder cannot see: a client that trickles its head (slowloris: the head must be complete within
 * the header timeout, counted from its first byte, so idle keep-alive connections are not affected),
 * and obsolete line folding (RFC 9112 §5.2), which Netty unfolds silently but an edge must refuse.
 * The dispatcher tells it when a head was decoded and when the next one is due.
 */
final class RequestGuard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);

    private final long headerTimeoutMillis;
    private final long headerTimeoutNanos;
    private ChannelHandlerContext ctx;
    private long headStart;
    private final Watch timer = new Watch() {
        @Override
        protected void check(long now) {
            if (now - headStart >= headerTimeoutNanos) {
                onTimeout();
            }
        }
    };
    private boolean expectingHead = true;
    private boolean scanning = true;
    private boolean afterLf;
    private boolean folded;

    RequestGuard(long headerTimeoutMillis) {
        this.headerTimeoutMillis = headerTimeoutMillis;
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (expectingHead && msg instanceof ByteBuf) {
            ByteBuf buf = (ByteBuf) msg;
            if (!timer.armed() && headerTimeoutNanos > 0 && buf.isReadable()) {
                headStart = System.nanoTime();
                Sweeper.of(ctx.executor()).arm(timer, headerTimeoutNanos);
            }
            if (scanning) {
                scan(buf);
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void scan(ByteBuf buf) {
        for (int i = buf.readerIndex(), end = buf.writerIndex(); i < end && scanning; i++) {
            byte b = buf.getByte(i);
            if (afterLf) {
                if (b == ' ' || b == '\t') {
                    folded = true;
                    scanning = false;
                } else if (b == '\r' || b == '\n') {
                    scanning = false; // the blank line: the head is over
                }
            }
            afterLf = b == '\n';
        }
    }

    /** A request head was decoded; @return whether it used obsolete line folding. */
    boolean headDecoded() {
        expectingHead = false;
        cancelTimer();
        boolean f = folded;
        folded = false;
        return f;
    }

    /** The current request has been read in full: the next bytes start a new head. */
    void nextHead() {
        expectingHead = true;
        scanning = true;
        afterLf = false;
    }

    private void onTimeout() {
        Sweeper.disarm(timer);
        if (expectingHead && ctx.channel().isActive()) {
            log.debug("{}: request head not complete within {} ms; closing", ctx.channel(), headerTimeoutMillis);
            ctx.close();
        }
    }

    private void cancelTimer() {
        Sweeper.disarm(timer);
    }

    /** No request head has started: nothing here would be lost by removing this handler. */
    boolean atRest() {
        return expectingHead && !timer.armed();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        ctx.fireChannelInactive();
    }
}
