package io.sluice.http.warmup;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * When an adaptive warm-up ({@code server.warmup: auto}) may end: once the JIT compilers have been
 * nearly idle for {@value #QUIET_WINDOWS} windows in a row. Measured on two cores under warm-up
 * traffic, C2 compiled at 0.5–0.7 of a core for about 25 s, then only in short bursts, and was quiet
 * after about 40 s; a fixed warm-up shorter than that leaves the rest to the first real requests
 * (docs/BENCHMARKS.md). Fed once per window with the JVM's accumulated compilation time.
 */
public final class JitSettling {
    /** Compilation time per window below which a window counts as quiet: a tenth of a core. */
    static final double QUIET_SHARE = 0.10;
    static final int QUIET_WINDOWS = 3;

    private final LongSupplier compileMillis;
    private long last;
    private int quiet;

    JitSettling(LongSupplier compileMillis) {
        this.compileMillis = compileMillis;
        this.last = compileMillis.getAsLong();
    }

    /** This JVM's compilers, or null where the JVM does not report compilation time. */
    public static JitSettling ofThisJvm() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return null;
        }
        return new JitSettling(jit::getTotalCompilationTime);
    }

    /** Called at the end of each window of {@code windowMillis}; true once the compilers have settled. */
    boolean settledAfter(long windowMillis) {
        long now = compileMillis.getAsLong();
        long compiled = now - last;
        last = now;
        quiet = compiled < QUIET_SHARE * windowMillis ? quiet + 1 : 0;
        return quiet >= QUIET_WINDOWS;
    }
}
