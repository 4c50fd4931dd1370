package io.sluice.http.timeout;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.TimeUnit;

/**
 * Fires Netty's {@link IdleStateEvent}s like {@code IdleStateHandler}, reader-idle and all-idle,
 * but checked by the loop's {@link Sweeper}, with no listener on every write and no clock read on
 * the data path: read batches and flushes are only counted, and the sweep notes the time when a
 * count moved. An event so fires between one timeout and one timeout plus two ticks after the last
 * activity, never earlier. It repeats every period while the channel stays idle; what to do about
 * it is up to the handlers behind.
 */
public final class IdleTimeout extends ChannelDuplexHandler {
    private final long readerIdleNanos;
    private final long allIdleNanos;
    private ChannelHandlerContext ctx;
    private long readMark;        // sweep time at which reads were last seen to have moved
    private long activityMark;
    private int reads;            // read batches and flushes, counted on the data path
    private int flushes;
    private int readsSeen;
    private int flushesSeen;
    private boolean reading;
    private final Watch watch = new Watch() {
        @Override
        protected void check(long now) {
            IdleTimeout.this.check(now);
        }
    };

    /** @param readerIdleMillis no read for this long (0: never); @param allIdleMillis no read or flush (0: never) */
    public IdleTimeout(long readerIdleMillis, long allIdleMillis) {
        this.readerIdleNanos = TimeUnit.MILLISECONDS.toNanos(readerIdleMillis);
        this.allIdleNanos = TimeUnit.MILLISECONDS.toNanos(allIdleMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (watch.armed() || (readerIdleNanos <= 0 && allIdleNanos <= 0)) {
            return;
        }
        readMark = activityMark = System.nanoTime();
        long shortest = readerIdleNanos <= 0 ? allIdleNanos : allIdleNanos <= 0 ? readerIdleNanos
                : Math.min(readerIdleNanos, allIdleNanos);
        Sweeper.of(ctx.executor()).arm(watch, shortest);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (reading) {
            reading = false;
            reads++;
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        flushes++;
        ctx.flush();
    }

    private void check(long now) {
        if (!ctx.channel().isActive()) {
            Sweeper.disarm(watch);
            return;
        }
        if (reads != readsSeen) {
            readsSeen = reads;
            readMark = activityMark = now;
        }
        if (flushes != flushesSeen) {
            flushesSeen = flushes;
            activityMark = now;
        }
        if (readerIdleNanos > 0 && now - readMark >= readerIdleNanos) {
            readMark = now; // the next event, if still idle, one period later
            ctx.fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        }
        if (allIdleNanos > 0 && now - activityMark >= allIdleNanos) {
            activityMark = now;
            ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Sweeper.disarm(watch);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Sweeper.disarm(watch);
    }
}
