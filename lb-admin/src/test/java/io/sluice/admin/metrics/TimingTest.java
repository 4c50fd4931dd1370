package io.sluice.admin.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.sluice.core.observe.Exchange;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hot path: one observation lands in both the Prometheus histogram and the HdrHistogram, and allocates nothing. */
class TimingTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void aChunkGapAllocatesNothing() {
        GatewayMetrics metrics = new GatewayMetrics();
        Exchange ex = new Exchange();
        ex.pool = "vllm";
        ex.observers = List.of(metrics);
        for (int i = 0; i < 50_000; i++) { // warm up: the pool's data point, the JIT, HdrHistogram's range
            metrics.onContentGap(ex, 1_000 + (i % 5_000) * 1_000L);
        }
        long thread = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(thread);
        for (int i = 0; i < 100_000; i++) {
            metrics.onContentGap(ex, 1_000 + (i % 5_000) * 1_000L);
        }
        long allocated = THREADS.getThreadAllocatedBytes(thread) - before;
        assertTrue(allocated < 10_000, "100k observations allocated " + allocated + " bytes");

        HistogramSnapshot.HistogramDataPointSnapshot point = metrics.interChunk.collect().getDataPoints().get(0);
        assertEquals("vllm", point.getLabels().get("pool"));
        assertEquals(150_000, point.getCount());
        assertEquals(150_000, metrics.interChunk.snapshot().count(), "the stats endpoint's HdrHistogram saw each one too");
    }

    @Test
    void bucketsAreInSecondsAndCumulative() {
        Timing t = new Timing("t_seconds", "test", Timing.Buckets.FIRST_TOKEN);
        t.record("p", 30_000_000L);  // 30 ms
        t.record("p", 3_000_000_000L); // 3 s
        t.record(null, 1_000_000L);  // answered by the gateway: pool ""
        t.record("p", -1);           // did not happen: not recorded
        HistogramSnapshot s = t.collect();
        HistogramSnapshot.HistogramDataPointSnapshot p = s.getDataPoints().stream()
                .filter(d -> "p".equals(d.getLabels().get("pool"))).findFirst().orElseThrow();
        assertEquals(2, p.getCount());
        assertEquals(3.03, p.getSum(), 1e-9);
        assertEquals(0, cumulative(p, 0.025));
        assertEquals(1, cumulative(p, 0.05));
        assertEquals(1, cumulative(p, 2.5));
        assertEquals(2, cumulative(p, 5));
        assertEquals(2, cumulative(p, Double.POSITIVE_INFINITY));
        t.record("p", 100_000_000L); // exactly on the 0.1 bound: counted in it (le)
        HistogramSnapshot.HistogramDataPointSnapshot q = t.collect().getDataPoints().stream()
                .filter(d -> "p".equals(d.getLabels().get("pool"))).findFirst().orElseThrow();
        assertEquals(2, cumulative(q, 0.1));
        assertEquals(1, cumulative(q, 0.075));
        assertEquals(2, s.getDataPoints().size(), "pool p and the gateway's own answers");
    }

    private static long cumulative(HistogramSnapshot.HistogramDataPointSnapshot p, double le) {
        long n = 0;
        for (var b : p.getClassicBuckets()) {
            if (b.getUpperBound() <= le) {
                n += b.getCount();
            }
        }
        return n;
    }
}
