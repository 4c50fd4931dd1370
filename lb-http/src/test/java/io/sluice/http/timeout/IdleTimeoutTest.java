package io.sluice.http.timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When {@link IdleTimeout}'s events fire, driven by the sweeper's checks at chosen times. */
class IdleTimeoutTest {
    private static final long TICK = TimeUnit.MILLISECONDS.toNanos(500);

    @Test
    void aClientConnectionTurnsQuietAtTheSecondSweepAfterItsLastActivity() {
        // A client connection's limits: 300 s idle, the listener's 500 ms quiet period; the tick is 500 ms.
        IdleTimeout idle = new IdleTimeout(new IdleTimeout.Limits(0, 300_000, 500));
        List<Object> events = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(idle, new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
        try {
            assertEquals(TICK, Sweeper.of(ch.eventLoop()).tickNanos());
            long t = System.nanoTime();
            ch.writeInbound(ch.alloc().buffer().writeByte('G')); // a request's bytes...
            io.netty.util.ReferenceCountUtil.release(ch.readInbound()); // passed on to the channel's end
            ch.flush();
            idle.check(t + TICK); // ...seen by this sweep
            assertEquals(List.of(), events);
            idle.check(t + 2 * TICK); // the next: quiet for a whole tick
            assertEquals(List.of(IdleTimeout.QUIET), events);
            idle.check(t + 3 * TICK);
            assertEquals(List.of(IdleTimeout.QUIET), events); // once per quiet spell
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
