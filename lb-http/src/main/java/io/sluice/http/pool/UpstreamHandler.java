package io.sluice.http.pool;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands everything to the exchange that currently owns
 * the connection, and closes the connection if it talks or idles while it sits in the pool.
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    /** The side of an exchange that receives an upstream connection's events. */
    public interface Listener {
        void onUpstreamRead(Object msg);

        void onUpstreamReadComplete();

        void onUpstreamWritabilityChanged(boolean writable);

        /** Nothing was read for the stream-idle timeout while this listener owned the connection. */
        void onUpstreamIdle();

        /** The connection closed or failed while bound; {@code cause} is null for a plain close. */
        void onUpstreamClosed(Throwable cause);
    }

    private Listener owner;

    void bind(Listener owner) {
        this.owner = owner;
    }

    void unbind() {
        this.owner = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Listener o = owner;
        if (o != null) {
            o.onUpstreamRead(msg);
        } else {
            // Bytes on an idle pooled connection: the server broke the protocol; do not reuse it.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Listener o = owner;
        if (o != null) {
            o.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener o = owner;
        if (o != null) {
            o.onUpstreamWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Listener o = owner;
        owner = null;
        if (o != null) {
            o.onUpstreamClosed(null);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Listener o = owner;
        owner = null;
        if (o != null) {
            o.onUpstreamClosed(cause);
        }
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            Listener o = owner;
            IdleState state = ((IdleStateEvent) evt).state();
            if (o == null && state == IdleState.ALL_IDLE) {
                ctx.close(); // idle in the pool for too long
            } else if (o != null && state == IdleState.READER_IDLE) {
                o.onUpstreamIdle(); // the listener decides: a long prefill is fine, a stalled stream is not
            }
        } else {
            ReferenceCountUtil.release(evt);
        }
    }
}
