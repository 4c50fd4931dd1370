package io.sluice.http.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.WebSocketConfig;
import io.sluice.core.observe.Exchange;
import io.sluice.http.timeout.Sweeper;
import io.sluice.http.timeout.Watch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WebSocket after its 101: two channels on one event loop joined as a raw byte tunnel, as in
 * Netty's HexDumpProxy. Each side stops reading while the other cannot take more (autoRead follows
 * the peer's writability), so a client that stops reading holds at most the channel's high water
 * mark plus one read batch. Closing (or half-closing) either side closes both, after what was
 * already read has been flushed. The backend's in-flight lease, the pool's tunnel slot and the
 * exchange's record are held until then, and released once.
 *
 * <p>Client to backend, a {@link FrameScanner} follows the frame headers: a message larger than
 * {@code max-message} closes the tunnel with 1009 before its payload goes on. A tunnel in which no
 * byte moved for {@code idle-timeout} is closed with 1001.
 */
public final class WebSocketTunnel {
    private static final Logger log = LoggerFactory.getLogger(WebSocketTunnel.class);
    /** A closing side that will not take its last bytes (a stalled peer) is closed anyway after this. */
    private static final long CLOSE_GRACE_MILLIS = 5000;
    /** The most bytes ever pending in a tunnel's outbound buffer towards the client (for tests and metrics). */
    private static final LongAccumulator MAX_PENDING_TO_CLIENT = new LongAccumulator(Math::max, 0);

    private static final java.util.concurrent.atomic.LongAdder BACKEND_PAUSES = new java.util.concurrent.atomic.LongAdder();

    private final Channel client;
    private final Channel backend;
    private final String requestId;
    private Backend.Lease lease;
    private AtomicInteger slots;
    private Runnable releaseStreamSlot;
    private final Exchange exchange;
    private Runnable endExchange;
    private final FrameScanner scanner;
    private final long idleNanos;
    private long moved;
    private long seen;
    private long mark;
    private boolean closed;
    private final Watch idle = new Watch() {
        @Override
        protected void check(long now) {
            checkIdle(now);
        }
    };

    final Side clientSide = new Side(true);
    final Side backendSide = new Side(false);

    /**
     * @param lease  the backend's in-flight slot, released when the tunnel closes
     * @param slots  the pool's count of open tunnels, decremented when it closes
     * @param releaseStreamSlot for an HTTP/2 stream, gives back its upstream connection's slot of the
     *               connection's stream budget when the tunnel closes; null otherwise
     */
    public WebSocketTunnel(Channel client, Channel backend, Backend.Lease lease, AtomicInteger slots,
                           Runnable releaseStreamSlot, WebSocketConfig config, Exchange exchange, String requestId) {
        this.client = client;
        this.backend = backend;
        this.lease = lease;
        this.slots = slots;
        this.releaseStreamSlot = releaseStreamSlot;
        this.exchange = exchange;
        this.requestId = requestId;
        this.scanner = config.maxMessage() > 0 ? new FrameScanner(config.maxMessage()) : null;
        this.idleNanos = config.idleTimeout().toNanos();
    }

    /** The handler that goes last in the client's pipeline. */
    public ChannelInboundHandlerAdapter clientHandler() {
        return clientSide;
    }

    /** The handler that goes last in the backend connection's pipeline. */
    public ChannelInboundHandlerAdapter backendHandler() {
        return backendSide;
    }

    /**
     * Starts the tunnel once both pipelines carry its handlers; {@code endExchange} ends the exchange's
     * record (status 101, its duration until the close), run once when the tunnel closes.
     */
    public void start(Runnable endExchange) {
        if (closed) {
            endExchange.run(); // a side closed while the pipelines were being switched
            return;
        }
        this.endExchange = endExchange;
        mark = System.nanoTime();
        if (idleNanos > 0) {
            Sweeper.of(client.eventLoop()).arm(idle, idleNanos);
        }
        client.config().setAutoRead(backend.isWritable());
        backend.config().setAutoRead(client.isWritable());
        client.flush();
        backend.flush();
        if (!client.isActive() || !backend.isActive()) {
            close();
        }
    }

    /** The most bytes any tunnel has had pending towards its client since {@link #resetMaxPending()}. */
    public static long maxPendingToClient() {
        return MAX_PENDING_TO_CLIENT.get();
    }

    public static void resetMaxPending() {
        MAX_PENDING_TO_CLIENT.reset();
    }

    /** How often a tunnel stopped reading its backend because the client could take no more. */
    public static long backendPauses() {
        return BACKEND_PAUSES.sum();
    }

    private void checkIdle(long now) {
        if (closed) {
            Sweeper.disarm(idle);
            return;
        }
        if (moved != seen) {
            seen = moved;
            mark = now;
        } else if (now - mark >= idleNanos) {
            log.debug("websocket {}: idle for {} ms; closing", requestId, TimeUnit.NANOSECONDS.toMillis(idleNanos));
            closeWith(WebSockets.GOING_AWAY, true);
        }
    }

    /** Sends both sides a close frame with {@code code}, then closes; {@code toBackend}: the backend's is a clean frame boundary. */
    private void closeWith(int code, boolean toBackend) {
        if (closed) {
            return;
        }
        if (client.isActive()) {
            client.write(WebSockets.closeFrame(client.alloc(), code, false), client.voidPromise());
        }
        if (toBackend && backend.isActive()) {
            backend.write(WebSockets.closeFrame(backend.alloc(), code, true), backend.voidPromise());
        }
        close();
    }

    /** Closes both sides (once), after flushing what they have been given. */
    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sweeper.disarm(idle);
        closeOnFlush(client);
        closeOnFlush(backend);
        Backend.Lease l = lease;
        lease = null;
        if (l != null) {
            l.release();
        }
        AtomicInteger s = slots;
        slots = null;
        if (s != null) {
            s.decrementAndGet();
        }
        Runnable streamSlot = releaseStreamSlot;
        releaseStreamSlot = null;
        if (streamSlot != null) {
            streamSlot.run();
        }
        Runnable end = endExchange;
        endExchange = null;
        if (end != null) {
            end.run();
        }
    }

    private static void closeOnFlush(Channel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.config().setAutoRead(false);
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        if (ch.isActive() && !ch.isWritable()) {
            // A peer that does not read would keep the socket open for ever.
            ch.eventLoop().schedule(() -> {
                ch.close();
            }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Bytes written to {@code ch} and not yet on the wire: its outbound buffer, or for an HTTP/2 stream
     * (which has none) what its writability counts, which includes frames held by flow control.
     */
    private static long pendingBytes(Channel ch) {
        io.netty.channel.ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        long pending = out != null ? out.totalPendingWriteBytes() : 0;
        if (!ch.isWritable()) {
            pending = Math.max(pending, ch.bytesBeforeWritable() + ch.config().getWriteBufferLowWaterMark() - 1);
        }
        return pending;
    }

    final class Side extends ChannelInboundHandlerAdapter {
        private final boolean fromClient;

        Side(boolean fromClient) {
            this.fromClient = fromClient;
        }

        private Channel peer() {
            return fromClient ? backend : client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ReferenceCountUtil.release(msg); // the empty last part after a 101, left by a decoder going away
                return;
            }
            Channel peer = peer();
            if (closed || !peer.isActive()) {
                b.release();
                return;
            }
            int n = b.readableBytes();
            moved++;
            if (fromClient) {
                if (scanner != null) {
                    int cut = scanner.scan(b);
                    if (cut >= 0) {
                        boolean clean = scanner.cleanCut();
                        if (cut > 0) {
                            peer.write(b.retainedSlice(b.readerIndex(), cut), peer.voidPromise());
                        }
                        b.release();
                        log.debug("websocket {}: client message over the size limit; closing with 1009", requestId);
                        closeWith(WebSockets.MESSAGE_TOO_BIG, clean);
                        return;
                    }
                }
                if (exchange != null) {
                    exchange.bytesIn += n;
                }
            } else if (exchange != null) {
                exchange.bytesOut += n;
            }
            peer.write(b, peer.voidPromise()); // a failed write fires exceptionCaught there: the tunnel closes
            if (!fromClient) {
                MAX_PENDING_TO_CLIENT.accumulate(pendingBytes(peer));
            }
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
                if (!fromClient) {
                    BACKEND_PAUSES.increment();
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer().flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (!closed) {
                peer().config().setAutoRead(ctx.channel().isWritable());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("websocket {}: {} side failed: {}", requestId, fromClient ? "client" : "backend", cause.toString());
            ctx.close();
            close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt); // idle events of handlers in front: the tunnel has its own timeout
        }
    }
}
