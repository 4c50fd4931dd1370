package io.sluice.admin.metrics;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A latency distribution in microseconds. Event loops record into an HdrHistogram {@link Recorder}
 * (wait-free, no lock, no allocation); readers (a scrape, the stats endpoint) swap its interval
 * histogram out and add it to a cumulative one under this object's lock, which writers never take.
 */
public final class Latency {
    private final Recorder recorder = new Recorder(3);
    private final LongAdder sumMicros = new LongAdder();
    private final Histogram total = new Histogram(3);
    private Histogram interval;

    public void recordMicros(long micros) {
        if (micros < 0) {
            return;
        }
        recorder.recordValue(micros);
        sumMicros.add(micros);
    }

    /** A consistent copy of everything recorded so far. */
    public synchronized Snapshot snapshot() {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        return new Snapshot(total.getTotalCount(), sumMicros.sum(),
                total.getValueAtPercentile(50), total.getValueAtPercentile(90),
                total.getValueAtPercentile(99), total.getTotalCount() == 0 ? 0 : total.getMaxValue());
    }

    /** Percentiles in microseconds; the sum is exact, the percentiles within 0.1%. */
    public record Snapshot(long count, long sumMicros, long p50, long p90, long p99, long max) {
    }
}
