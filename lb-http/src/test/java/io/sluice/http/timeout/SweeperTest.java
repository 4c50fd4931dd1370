package io.sluice.http.timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SweeperTest {
    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Fires once its deadline has passed, records the order, optionally disarms another watch. */
    private static final class Deadline extends Watch {
        final String name;
        final long deadline;
        final List<String> fired;
        final CountDownLatch done;
        Watch disarmOnFire;

        Deadline(String name, long deadline, List<String> fired, CountDownLatch done) {
            this.name = name;
            this.deadline = deadline;
            this.fired = fired;
            this.done = done;
        }

        @Override
        protected void check(long now) {
            if (now - deadline >= 0) {
                Sweeper.disarm(this);
                if (disarmOnFire != null) {
                    Sweeper.disarm(disarmOnFire);
                }
                fired.add(name);
                done.countDown();
            }
        }
    }

    @Test
    void firesAfterTheDeadlineAndNeverForADisarmedWatch() throws Exception {
        List<String> fired = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(2);
        long t0 = System.nanoTime();
        long ms40 = TimeUnit.MILLISECONDS.toNanos(40);
        Deadline a = new Deadline("a", t0 + ms40, fired, done);
        Deadline b = new Deadline("b", t0 + ms40, fired, done);   // disarmed by a, in the same sweep
        Deadline c = new Deadline("c", t0 + 2 * ms40, fired, done);
        Deadline never = new Deadline("never", t0, fired, done); // disarmed before any sweep
        a.disarmOnFire = b;
        loop.submit(() -> {
            Sweeper s = Sweeper.of(loop);
            s.arm(never, ms40);
            s.arm(a, ms40);
            s.arm(b, ms40);
            s.arm(c, ms40);
            Sweeper.disarm(never);
        }).sync();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("a", "c"), fired);
        assertTrue(System.nanoTime() - t0 >= 2 * ms40, "fired before its deadline");
    }

    @Test
    void aWatchCanBeReArmedAfterItFiredAndTheSweepStopsWhenNothingIsArmed() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        CountDownLatch twice = new CountDownLatch(2);
        Watch w = new Watch() {
            @Override
            protected void check(long now) {
                checks.incrementAndGet();
                Sweeper.disarm(this);
                twice.countDown();
                if (twice.getCount() == 1) {
                    Sweeper.of(loop).arm(this, TimeUnit.MILLISECONDS.toNanos(40)); // re-armed from its own check
                }
            }
        };
        loop.submit(() -> Sweeper.of(loop).arm(w, TimeUnit.MILLISECONDS.toNanos(40))).sync();
        assertTrue(twice.await(5, TimeUnit.SECONDS));
        // Nothing is armed now: after the next sweep unlinks it, no further checks happen.
        int after = checks.get();
        loop.schedule(() -> { }, 200, TimeUnit.MILLISECONDS).sync();
        assertEquals(2, after);
        assertEquals(2, checks.get());
        assertFalse(w.armed());
    }

    @Test
    void theTickGrowsBackOnceTheWatchThatNeededAFinerOneIsGone() throws Exception {
        long ms40 = TimeUnit.MILLISECONDS.toNanos(40);
        Watch quick = new Watch() {
            @Override
            protected void check(long now) {
            }
        };
        Watch slow = new Watch() {
            @Override
            protected void check(long now) {
            }
        };
        Sweeper s = loop.submit(() -> {
            Sweeper sw = Sweeper.of(loop);
            sw.arm(slow, TimeUnit.SECONDS.toNanos(120));
            sw.arm(quick, ms40);
            return sw;
        }).get();
        assertEquals(TimeUnit.MILLISECONDS.toNanos(5), (long) loop.submit(s::tickNanos).get());
        loop.submit(() -> Sweeper.disarm(quick)).sync();
        // The next sweeps unlink the quick watch and go back to the slow one's tick.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (loop.submit(s::tickNanos).get() != TimeUnit.MILLISECONDS.toNanos(500) && System.nanoTime() < until) {
            loop.schedule(() -> { }, 5, TimeUnit.MILLISECONDS).sync();
        }
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), (long) loop.submit(s::tickNanos).get());
    }

    @Test
    void theQuietPeriodDoesNotSetTheTickOfEveryConnection() {
        // A client connection: 120 s idle timeout, 500 ms quiet period (dormancy). The tick is 500 ms, not an
        // eighth of the quiet period, which had every connection checked 16 times a second.
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(
                new IdleTimeout(new IdleTimeout.Limits(0, 120_000, 500)));
        try {
            assertEquals(TimeUnit.MILLISECONDS.toNanos(500), Sweeper.of(ch.eventLoop()).tickNanos());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aWatchReArmedFinerByAnotherWatchsCheckKeepsItsFinerTick() throws Exception {
        long second = TimeUnit.SECONDS.toNanos(1);
        long ms40 = TimeUnit.MILLISECONDS.toNanos(40);
        Watch first = new Watch() {
            @Override
            protected void check(long now) {
            }
        };
        CountDownLatch reArmed = new CountDownLatch(1);
        Watch reArming = new Watch() {
            @Override
            protected void check(long now) {
                if (reArmed.getCount() == 1) {
                    Sweeper.of(loop).arm(first, ms40); // the sweep has already passed `first`
                    reArmed.countDown();
                }
            }
        };
        Sweeper s = loop.submit(() -> {
            Sweeper sw = Sweeper.of(loop);
            sw.arm(first, second);
            sw.arm(reArming, second);
            return sw;
        }).get();
        assertTrue(reArmed.await(5, TimeUnit.SECONDS));
        // Tasks run in order: this one after the sweep that re-armed `first` has finished.
        assertEquals(TimeUnit.MILLISECONDS.toNanos(5), (long) loop.submit(s::tickNanos).get());
    }
}
