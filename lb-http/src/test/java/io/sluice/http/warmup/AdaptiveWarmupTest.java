package io.sluice.http.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code server.warmup: auto}: the warm-up ends once the JIT has settled, not before its minimum, and
 * at its cap when the JIT never settles. Real traffic to a simulator over loopback; only the JVM's
 * compilation clock is a stand-in, since the real one cannot be made to settle on demand.
 */
class AdaptiveWarmupTest {
    private static EventLoopGroup group;
    private static VllmSimulator sim;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        sim = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.1").port(0).models(java.util.List.of("warmup"))
                .ttft(Duration.ZERO).itl(Duration.ZERO).maxTokens(16).build());
    }

    @AfterAll
    static void stop() throws Exception {
        sim.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Warmup.Result drive(Duration cap, JitSettling settling) throws InterruptedException {
        return Warmup.drive(group, NioSocketChannel.class, new InetSocketAddress("127.0.0.1", sim.port()), null, cap,
                settling);
    }

    @Test
    void aQuietJitEndsTheWarmUpAfterItsMinimumNotAtTheCap() throws Exception {
        long t0 = System.nanoTime();
        Warmup.Result r = drive(Duration.ofSeconds(60), new JitSettling(() -> 0));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(r.settled(), r::toString);
        assertEquals(0, r.failures(), r::toString);
        assertTrue(r.requests() > 0 && r.streams() > 0, r::toString);
        assertTrue(ms >= Warmup.MIN_ADAPTIVE.toMillis(), "ended after " + ms + " ms, before the minimum");
        assertTrue(ms < 30_000, "ended after " + ms + " ms: it waited for the 60 s cap");
    }

    @Test
    void aJitThatKeepsCompilingRunsTheWarmUpToItsCap() throws Exception {
        AtomicLong compiled = new AtomicLong();
        long t0 = System.nanoTime();
        Warmup.Result r = drive(Duration.ofSeconds(2), new JitSettling(() -> compiled.addAndGet(900)));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertFalse(r.settled(), r::toString);
        assertEquals(0, r.failures(), r::toString);
        assertTrue(ms >= 2_000, "ended after " + ms + " ms, before its cap");
    }

    @Test
    void settledMeansThreeQuietWindowsInARowAndABurstStartsTheCountAgain() {
        long[] clock = {0};
        JitSettling s = new JitSettling(() -> clock[0]);
        long[] perWindow = {600, 400, 50, 50, 300, 20, 0, 99};
        boolean[] expected = {false, false, false, false, false, false, false, true};
        for (int i = 0; i < perWindow.length; i++) {
            clock[0] += perWindow[i];
            assertEquals(expected[i], s.settledAfter(1_000), "window " + i);
        }
    }
}
