package io.sluice.admin.metrics;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One latency recorded two ways: a classic Prometheus histogram per pool for {@code /metrics}
 * (fixed buckets, so replicas aggregate with {@code histogram_quantile(…, sum by (le) (rate(…)))}),
 * and an HdrHistogram {@link Latency} for {@code /api/v1/stats} and the dashboard (exact percentiles
 * of this process).
 *
 * <p>Both recordings are lock-free and allocate nothing: the pool's data point is resolved once per
 * pool and cached (a lock-free map read per observation, no label array, no key object).
 */
public final class Timing {
    private final Histogram histogram;
    private final Latency latency = new Latency();
    private final ConcurrentHashMap<String, DistributionDataPoint> byPool = new ConcurrentHashMap<>();

    Timing(String name, String help, double... bucketsSeconds) {
        this.histogram = Histogram.builder().name(name).help(help).unit(Unit.SECONDS).labelNames("pool")
                .classicOnly().classicUpperBounds(bucketsSeconds).withoutExemplars().build();
    }

    /** @param pool the exchange's pool, or null (answered by Sluice) */
    public void record(String pool, long nanos) {
        if (nanos < 0) {
            return;
        }
        latency.recordMicros(nanos / 1000);
        String key = pool == null ? "" : pool;
        DistributionDataPoint point = byPool.get(key);
        if (point == null) {
            point = byPool.computeIfAbsent(key, p -> histogram.labelValues(p));
        }
        point.observe(nanos / 1e9);
    }

    Histogram histogram() {
        return histogram;
    }

    Latency.Snapshot snapshot() {
        return latency.snapshot();
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
