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
 * Sits before the HTTP decoder and times each request head (slowloris): a head must be complete
 * within the header timeout. The clock starts at the head's first byte, and for a connection's first
 * request when the connection starts, so a connection that never sends a byte is closed too. Idle
 * keep-alive connections between requests are left to the idle timeout.
 *
 * <p>The dispatcher tells it when a head was decoded and when a request's last byte was read. While
 * a response is in progress the clock is held: a pipelined request (or a stray CRLF) that follows a
 * request body must not cut a long streamed answer; its head is timed from the end of that exchange.
 */
final class RequestGuard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);

    private final long headerTimeoutMillis;
    private final long headerTimeoutNanos;
    private final boolean firstRequest;
    private ChannelHandlerContext ctx;
    private long headStart;
    private final Watch timer = new Watch() {
        @Override
        protected void check(long now) {
            if (!busy && now - headStart >= headerTimeoutNanos) {
                onTimeout();
            }
        }
    };
    private boolean expectingHead = true;
    private boolean busy;

    /** @param firstRequest the connection is new: its first head is timed from now, not from its first byte */
    RequestGuard(long headerTimeoutMillis, boolean firstRequest) {
        this.headerTimeoutMillis = headerTimeoutMillis;
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        this.firstRequest = firstRequest;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (firstRequest && ctx.channel().isActive()) {
            startClock();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (firstRequest) {
            startClock();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (expectingHead && msg instanceof ByteBuf && ((ByteBuf) msg).isReadable()) {
            startClock();
        }
        ctx.fireChannelRead(msg);
    }

    private void startClock() {
        if (!timer.armed() && headerTimeoutNanos > 0) {
            headStart = System.nanoTime();
            Sweeper.of(ctx.executor()).arm(timer, headerTimeoutNanos);
        }
    }

    /** A request head was decoded (it may still be held back behind the response in progress). */
    void headDecoded() {
        expectingHead = false;
        Sweeper.disarm(timer);
    }

    /** The current request has been read in full: the next bytes start a new head. */
    void nextHead() {
        expectingHead = true;
    }

    /** A response is being sent (true) or has ended (false); the head clock does not run meanwhile. */
    void exchange(boolean inProgress) {
        busy = inProgress;
        if (!inProgress && timer.armed()) {
            headStart = System.nanoTime(); // bytes of a next head came during the exchange: time it from now
        }
    }

    private void onTimeout() {
        Sweeper.disarm(timer);
        if (expectingHead && ctx.channel().isActive()) {
            log.debug("{}: request head not complete within {} ms; closing", ctx.channel(), headerTimeoutMillis);
            ctx.close();
        }
    }

    /** No request head has started: nothing here would be lost by removing this handler. */
    boolean atRest() {
        return expectingHead && !timer.armed();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Sweeper.disarm(timer);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Sweeper.disarm(timer);
        ctx.fireChannelInactive();
    }
}
