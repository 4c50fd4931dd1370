package io.sluice.http.timeout;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Fires Netty's {@link IdleStateEvent}s like {@code IdleStateHandler}, reader-idle and all-idle,
 * but checked by the loop's {@link Sweeper}, with no listener on every write and no clock read on
 * the data path: read batches and flushes are only counted, and the sweep notes the time when a
 * count moved. An event so fires between one timeout and one timeout plus two ticks after the last
 * activity, never earlier. It repeats every period while the channel stays idle; what to do about
 * it is up to the handlers behind.
 *
 * <p>It is its own {@link Watch} (so it implements the handler interfaces rather than extending
 * {@code ChannelDuplexHandler}), and its timeouts are one {@link Limits} shared by the connections
 * of a listener or an upstream pool: every idle connection keeps this handler for its whole life,
 * and these two save it 48 of the 128 bytes the handler and its watch took.
 */
public final class IdleTimeout extends Watch implements ChannelInboundHandler, ChannelOutboundHandler {
    /** Fired once when a channel has been quiet (no read, no flush) for the quiet period. */
    public static final Object QUIET = new Object() {
        @Override
        public String toString() {
            return "QUIET";
        }
    };

    /** The quiet event fires between one and two quiet periods after the last activity. */
    static final long QUIET_SLACK = 8;

    /** The timeouts, immutable, so that the connections of one listener share them. */
    public static final class Limits {
        final long readerIdleNanos;
        final long allIdleNanos;
        final long quietNanos;
        final long sweepNanos;

        /**
         * @param readerIdleMillis no read for this long (0: never); @param allIdleMillis no read or
         * flush (0: never); @param quietMillis fire {@link #QUIET} once per quiet spell of this length (0: never)
         */
        public Limits(long readerIdleMillis, long allIdleMillis, long quietMillis) {
            this.readerIdleNanos = TimeUnit.MILLISECONDS.toNanos(readerIdleMillis);
            this.allIdleNanos = TimeUnit.MILLISECONDS.toNanos(allIdleMillis);
            this.quietNanos = TimeUnit.MILLISECONDS.toNanos(quietMillis);
            this.sweepNanos = sweepTimeout(readerIdleNanos, allIdleNanos, quietNanos);
        }

        /** Whether a connection with these limits needs the handler at all. */
        public boolean any() {
            return sweepNanos != Long.MAX_VALUE;
        }

        public boolean readerIdleIs(long millis) {
            return readerIdleNanos == TimeUnit.MILLISECONDS.toNanos(millis);
        }
    }

    private Limits limits;
    private boolean quietFired;
    private ChannelHandlerContext ctx;
    private long readMark;        // sweep time at which reads were last seen to have moved
    private long activityMark;
    private long quietMark;       // like activityMark, but not moved by the idle events themselves
    private int reads;            // read batches and flushes, counted on the data path
    private int flushes;
    private int readsSeen;
    private int flushesSeen;
    private boolean reading;
    private ChannelInboundHandler standIn;  // a dormant connection's only request handling, until its next read

    public IdleTimeout(Limits limits) {
        this.limits = limits;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    /**
     * Changes the timeouts of a connection already open (a pooled upstream connection after a reload
     * changed {@code stream-idle-timeout}); still counted from the last activity.
     */
    public void limits(Limits next) {
        if (next == limits) {
            return;
        }
        limits = next;
        if (next.any() && ctx != null && ctx.channel().isActive()) {
            Sweeper.of(ctx.executor()).arm(this, next.sweepNanos); // a shorter timeout may need a finer tick
        }
    }

    /**
     * Until the next read, {@code handler} gets this channel's reads and user events (this handler's
     * own idle events included) with this handler's context, in place of the handlers behind, which
     * a dormant connection no longer has. Its {@code fireChannelRead} then reaches whatever it added
     * behind this handler. A handler of its own would cost the connection a context (64 bytes).
     */
    public void standIn(ChannelInboundHandler handler) {
        standIn = handler;
    }

    /** Whether a stand-in handles this channel now (it is dormant). */
    public boolean standingIn() {
        return standIn != null;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        fire(evt);
    }

    private void fire(Object evt) {
        ChannelInboundHandler s = standIn;
        if (s == null) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        try {
            s.userEventTriggered(ctx, evt);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (armed() || !limits.any()) {
            return;
        }
        readMark = activityMark = quietMark = System.nanoTime();
        Sweeper.of(ctx.executor()).arm(this, limits.sweepNanos);
    }

    /**
     * The timeout the sweeper's tick is fitted to. The quiet period only decides when a connection
     * is stripped to its dormant form, so it may fire up to a tick late: counted as eight times its
     * length, a client connection's quiet period (500 ms) sets the tick to itself rather than to an
     * eighth of itself (18,000 connections checked 8 times a second were a fifth of the I/O threads'
     * Java time at 9,000 streams), and the event fires at the second sweep after the last activity.
     */
    static long sweepTimeout(long readerIdleNanos, long allIdleNanos, long quietNanos) {
        long shortest = Long.MAX_VALUE;
        for (long t : new long[] {readerIdleNanos, allIdleNanos, quietNanos * QUIET_SLACK}) {
            if (t > 0) {
                shortest = Math.min(shortest, t);
            }
        }
        return shortest;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        reading = true;
        ChannelInboundHandler s = standIn;
        if (s == null) {
            ctx.fireChannelRead(msg);
        } else {
            standIn = null;
            s.channelRead(ctx, msg);
        }
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

    @Override
    protected void check(long now) {
        if (!ctx.channel().isActive()) {
            Sweeper.disarm(this);
            return;
        }
        Limits limits = this.limits;
        if (reads != readsSeen) {
            readsSeen = reads;
            readMark = activityMark = quietMark = now;
            quietFired = false;
        }
        if (flushes != flushesSeen) {
            flushesSeen = flushes;
            activityMark = quietMark = now;
            quietFired = false;
        }
        if (limits.quietNanos > 0 && !quietFired && now - quietMark >= limits.quietNanos) {
            quietFired = true;
            fire(QUIET);
        }
        if (limits.readerIdleNanos > 0 && now - readMark >= limits.readerIdleNanos) {
            readMark = now; // the next event, if still idle, one period later
            fire(IdleStateEvent.READER_IDLE_STATE_EVENT);
        }
        if (limits.allIdleNanos > 0 && now - activityMark >= limits.allIdleNanos) {
            activityMark = now;
            fire(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Sweeper.disarm(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Sweeper.disarm(this);
    }

    // What follows only passes the events on, as ChannelDuplexHandler would.

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        ctx.fireChannelRegistered();
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        ctx.fireChannelUnregistered();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    @SuppressWarnings("deprecation")
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
        ctx.bind(localAddress, promise);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
            ChannelPromise promise) {
        ctx.connect(remoteAddress, localAddress, promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.disconnect(promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.close(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.deregister(promise);
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise);
    }
}
