package io.sluice.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ReceiveSizes} sizes reads and ends read loops exactly as Netty's adaptive sizing does for a socket. */
class ReceiveSizesTest {

    @Test
    @SuppressWarnings("deprecation")
    void decidesAsNettysAdaptiveSizingForStreamSockets() {
        // What a socket channel gets from Netty by default: adaptive sizing, 16 reads per read event.
        RecvByteBufAllocator.ExtendedHandle netty = (RecvByteBufAllocator.ExtendedHandle)
                new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16).newHandle();
        RecvByteBufAllocator.ExtendedHandle lean = (RecvByteBufAllocator.ExtendedHandle) ReceiveSizes.INSTANCE.newHandle();
        DefaultChannelConfig config = new DefaultChannelConfig(new EmbeddedChannel());
        SplittableRandom random = new SplittableRandom(17);
        int events = 0;
        int longLoops = 0;
        for (int event = 0; event < 20_000; event++) {
            netty.reset(config);
            lean.reset(config);
            int pending = random.nextInt(8) == 0 ? random.nextInt(1 << 20) : random.nextInt(4096); // bytes in the socket
            int reads = 0;
            boolean more;
            do {
                assertEquals(netty.guess(), lean.guess(), "event " + event + ", read " + reads);
                int attempt = netty.guess();
                int got = Math.min(attempt, pending);
                pending -= got;
                netty.attemptedBytesRead(attempt);
                lean.attemptedBytesRead(attempt);
                netty.lastBytesRead(got);
                lean.lastBytesRead(got);
                netty.incMessagesRead(1);
                lean.incMessagesRead(1);
                reads++;
                more = netty.continueReading();
                assertEquals(more, lean.continueReading(), "event " + event + ", read " + reads);
            } while (more && pending >= 0 && reads < 100);
            longLoops += reads > 1 ? 1 : 0;
            netty.readComplete();
            lean.readComplete();
            events++;
        }
        assertEquals(netty.guess(), lean.guess());
        assertEquals(20_000, events);
        // The large reads took several buffers per read event, as a socket's reads do.
        org.junit.jupiter.api.Assertions.assertTrue(longLoops > 1000, "read loops with more than one read: " + longLoops);
    }

    @Test
    void aReadEventReadsUpToSixteenBuffers() {
        RecvByteBufAllocator.ExtendedHandle h = (RecvByteBufAllocator.ExtendedHandle) ReceiveSizes.INSTANCE.newHandle();
        h.reset(new DefaultChannelConfig(new EmbeddedChannel()));
        int reads = 0;
        do {
            h.attemptedBytesRead(h.guess());
            h.lastBytesRead(h.guess()); // every read fills its buffer: more is waiting
            h.incMessagesRead(1);
            reads++;
        } while (h.continueReading());
        assertEquals(16, reads);
        assertEquals(65536, h.guess()); // grown to the largest size on the way
    }
}
