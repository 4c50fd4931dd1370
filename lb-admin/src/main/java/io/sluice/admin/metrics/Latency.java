package io.sluice.admin.metrics;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A latency distribution in microseconds for {@code /api/v1/stats} and the dashboard (exact
 * percentiles of this process; {@code /metrics} exports bucketed histograms instead, which replicas
 * can be summed over). Event loops record into an HdrHistogram {@link Recorder} (wait-free, no lock,
 * no allocation); readers swap its interval histogram out and add it to a cumulative one under this
 * object's lock, which writers never take.
 */
public final class Latency {
    private final Recorder recorder = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private Histogram interval;

    public void recordMicros(long micros) {
        if (micros >= 0) {
            recorder.recordValue(micros);
        }
    }

    /** A consistent copy of everything recorded so far. */
    public synchronized Snapshot snapshot() {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        return new Snapshot(total.getTotalCount(),
                total.getValueAtPercentile(50), total.getValueAtPercentile(90),
                total.getValueAtPercentile(99), total.getTotalCount() == 0 ? 0 : total.getMaxValue());
    }

    /** Percentiles in microseconds, within 0.1%. */
    public record Snapshot(long count, long p50, long p90, long p99, long max) {
    }
}
