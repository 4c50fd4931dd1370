package io.sluice.http.server;

import io.sluice.core.net.LocalResources;
import io.sluice.core.observe.LogThrottle;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * On a listener's server channel, for a failed accept. Out of descriptors, every accept fails at once
 * and would again on the next loop turn: accepting pauses for {@link #ACCEPT_PAUSE_MILLIS} (as nginx
 * does), and the failure is logged once per interval with a count, instead of once per attempt (a
 * million lines a minute were seen).
 */
@ChannelHandler.Sharable
final class AcceptPause extends ChannelInboundHandlerAdapter {
    static final AcceptPause INSTANCE = new AcceptPause();

    private AcceptPause() {
    }

    static final long ACCEPT_PAUSE_MILLIS = 200;
    private static final Logger log = LoggerFactory.getLogger(AcceptPause.class);
    private static final LogThrottle ACCEPT_FAILURES = new LogThrottle(java.time.Duration.ofSeconds(10), 8);

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        long left = ACCEPT_FAILURES.admit(LocalResources.exhausted(cause) ? "exhausted" : "other");
        if (left >= 0) {
            log.warn("{}: accepting failed: {}; pausing accepts for {} ms{}", ctx.channel().localAddress(), cause.toString(),
                    ACCEPT_PAUSE_MILLIS, ACCEPT_FAILURES.summary(left));
        }
        if (ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
            ctx.executor().schedule(() -> {
                ctx.channel().config().setAutoRead(true);
                ctx.channel().read();
            }, ACCEPT_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }
}
