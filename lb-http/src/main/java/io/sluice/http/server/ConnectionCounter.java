package io.sluice.http.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.LongAdder;

/**
 * On a listener's server channel: every accepted connection passes here (before the acceptor
 * registers it), so the open-connections gauge needs nothing in the client pipeline.
 */
@ChannelHandler.Sharable
final class ConnectionCounter extends ChannelInboundHandlerAdapter {
    private final LongAdder open;

    ConnectionCounter(LongAdder open) {
        this.open = open;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Channel child) {
            open.increment();
            child.closeFuture().addListener(f -> open.decrement());
        }
        ctx.fireChannelRead(msg);
    }
}
