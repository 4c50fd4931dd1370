package io.sluice.admin.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * One latency recorded two ways: a classic Prometheus histogram per pool for {@code /metrics}
 * (fixed buckets, so replicas aggregate with {@code histogram_quantile(…, sum by (le) (rate(…)))}),
 * and an HdrHistogram {@link Latency} for {@code /api/v1/stats} and the dashboard (exact percentiles
 * of this process).
 *
 * <p>The buckets are counted here and handed to the Prometheus client as a {@link Collector}: the
 * client's own {@code Histogram.observe} (1.10.0) allocates a lambda per observation (40 bytes,
 * measured) and takes a lock while a scrape runs, which is too much for a call per streamed chunk.
 * Here an observation is a binary search over the bounds and two {@link LongAdder}/{@link DoubleAdder}
 * adds: lock-free, no allocation. The pool's series is resolved once per pool and cached (a
 * lock-free map read per observation, no label array, no key object). The client builds the
 * snapshot and writes the exposition.
 */
final class Timing implements Collector {
    private final String name;
    private final String help;
    private final double[] bounds;          // upper bounds in seconds, then +Inf
    private final long[] boundsNanos;       // the same in nanoseconds, without +Inf
    private final Latency latency = new Latency();
    private final ConcurrentHashMap<String, Series> byPool = new ConcurrentHashMap<>();

    /** One pool's buckets (not cumulative: the client's model wants counts per bucket) and sum. */
    private static final class Series {
        final LongAdder[] buckets;
        final DoubleAdder sumSeconds = new DoubleAdder();

        Series(int n) {
            buckets = new LongAdder[n];
            Arrays.setAll(buckets, i -> new LongAdder());
        }
    }

    Timing(String name, String help, double... bucketsSeconds) {
        this.name = name;
        this.help = help;
        this.bounds = Arrays.copyOf(bucketsSeconds, bucketsSeconds.length + 1);
        this.bounds[bucketsSeconds.length] = Double.POSITIVE_INFINITY;
        this.boundsNanos = new long[bucketsSeconds.length];
        for (int i = 0; i < bucketsSeconds.length; i++) {
            boundsNanos[i] = Math.round(bucketsSeconds[i] * 1e9);
            if (i > 0 && boundsNanos[i] <= boundsNanos[i - 1]) {
                throw new IllegalArgumentException(name + ": bucket bounds must increase");
            }
        }
    }

    /** @param pool the exchange's pool, or null (answered by Sluice) */
    void record(String pool, long nanos) {
        if (nanos < 0) {
            return;
        }
        latency.recordMicros(nanos / 1000);
        String key = pool == null ? "" : pool;
        Series s = byPool.get(key);
        if (s == null) {
            s = byPool.computeIfAbsent(key, p -> new Series(bounds.length));
        }
        int i = Arrays.binarySearch(boundsNanos, nanos);
        s.buckets[i >= 0 ? i : -i - 1].increment(); // le: a value on a bound counts in that bound's bucket
        s.sumSeconds.add(nanos / 1e9);
    }

    Latency.Snapshot snapshot() {
        return latency.snapshot();
    }

    @Override
    public HistogramSnapshot collect() {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help).unit(Unit.SECONDS);
        byPool.forEach((pool, s) -> {
            long[] counts = new long[bounds.length];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = s.buckets[i].sum();
            }
            b.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(Labels.of("pool", pool))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts)).sum(s.sumSeconds.sum()).build());
        });
        return b.build();
    }

    @Override
    public String getPrometheusName() {
        return name;
    }

    @Override
    public MetricType getMetricType() {
        return MetricType.HISTOGRAM;
    }

    /**
     * Bucket upper bounds in seconds, chosen per measurement. A classic histogram's buckets are
     * fixed at start; these cover what an LLM gateway sees with about two buckets per doubling where
     * the interesting range is.
     */
    static final class Buckets {
        /** Time to first token, response head: a cached prompt in milliseconds to a long prefill or a queue of tens of seconds. */
        static final double[] FIRST_TOKEN = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 7.5,
            10, 20, 40, 80};
        /** Gaps between streamed chunks: sub-millisecond (batched, local) to seconds (preemption, stalls). */
        static final double[] TOKEN_GAP = {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
            0.15, 0.25, 0.5, 1, 2.5, 5, 10};
        /** Whole exchanges: a health check or a cached answer to a long generation of minutes. */
        static final double[] REQUEST = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640};
        /** New upstream connections: loopback or same-zone TCP (sub-millisecond) to a TLS handshake across regions. */
        static final double[] CONNECT = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
            2.5, 5};

        private Buckets() {
        }
    }
}
