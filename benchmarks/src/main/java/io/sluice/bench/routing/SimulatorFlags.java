package io.sluice.bench.routing;

import io.sluice.core.config.Durations;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulators' settings, as {@code key=value} flags, applied to a {@link SimulatorOptions.Builder}.
 * The batching and prefix-cache settings of issue 14 ({@code kv-blocks}, {@code prefill-per-token},
 * {@code batch-slowdown}, {@code prefix-caching}) are on by default. {@link #ignored()} stays for flags a
 * simulator build does not know, reported in routing.json rather than failing.
 */
final class SimulatorFlags {
    /**
     * Prefill dominates TTFT, as on a GPU: ~2,000 uncached prompt tokens cost 200 ms, a cached prefix
     * almost nothing. 1,500 KV blocks of 16 tokens hold about 10 of the 24 tenants' system prompts, so a
     * backend that sees every tenant (round-robin) evicts them, one that sees its own share keeps them.
     */
    static final String DEFAULTS = "ttft=20ms,itl=10ms,max-num-seqs=16,max-tokens=4096,"
            + "prefix-caching=true,prefill-per-token=100us,kv-blocks=1500,batch-slowdown=0.02";

    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> ignored = new ArrayList<>();

    SimulatorFlags(String flags) {
        for (String kv : (DEFAULTS + "," + flags).split(",")) {
            if (kv.isBlank()) {
                continue;
            }
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("simulator flag '" + kv + "' is not key=value");
            }
            values.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
    }

    Map<String, String> values() {
        return values;
    }

    /** The flags this simulator build does not support (yet). */
    List<String> ignored() {
        return ignored;
    }

    SimulatorOptions.Builder apply(SimulatorOptions.Builder b) {
        ignored.clear();
        for (Map.Entry<String, String> e : values.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "ttft" -> b.ttft(duration(v));
                case "itl" -> b.itl(duration(v));
                case "max-num-seqs" -> b.maxNumSeqs(Integer.parseInt(v));
                case "max-tokens" -> b.maxTokens(Integer.parseInt(v));
                case "max-model-len" -> b.maxModelLen(Integer.parseInt(v));
                case "kv-blocks" -> b.kvBlocks(Integer.parseInt(v));
                case "prefill-per-token" -> b.prefillPerToken(duration(v));
                case "batch-slowdown" -> b.batchSlowdown(Double.parseDouble(v));
                case "prefix-caching" -> b.prefixCaching(Boolean.parseBoolean(v));
                default -> throw new IllegalArgumentException("unknown simulator flag '" + e.getKey() + "'");
            }
        }
        return b;
    }

    private static Duration duration(String v) {
        return Durations.parse(v);
    }
}
