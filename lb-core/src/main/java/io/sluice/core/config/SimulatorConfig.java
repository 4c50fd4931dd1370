package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * An in-process simulated vLLM server (lb-sim), so the gateway can be run and tested without GPUs.
 *
 * @param port            0 for an ephemeral port
 * @param ttft            time to first token of a lone sequence with a fully cached prompt
 * @param itl             inter-token latency of a lone sequence
 * @param maxTokens       most tokens generated for one request
 * @param maxNumSeqs      sequences decoded concurrently; more requests queue, as in vLLM
 * @param kvBlocks        KV-cache capacity in blocks of 16 tokens; requests whose blocks do not fit queue
 * @param prefillPerToken prefill time per prompt token not found in the prefix cache
 * @param batchSlowdown   how much each further running sequence slows prefill and decoding:
 *                        times {@code 1 + batchSlowdown * (running - 1)}
 * @param prefixCaching   vLLM's automatic prefix caching
 */
public record SimulatorConfig(String model, int port, Duration ttft, Duration itl, int maxTokens, int maxNumSeqs,
                              int kvBlocks, Duration prefillPerToken, double batchSlowdown, boolean prefixCaching) {
    public static final int DEFAULT_KV_BLOCKS = 4096;
    public static final Duration DEFAULT_PREFILL_PER_TOKEN = Duration.ofNanos(200_000);
    public static final double DEFAULT_BATCH_SLOWDOWN = 0.01;
    /** The largest {@code batch-slowdown} accepted (the simulator's own bound). */
    public static final double MAX_BATCH_SLOWDOWN = 10.0;

    public static final SimulatorConfig DEFAULT = new SimulatorConfig("demo", 0, Duration.ofMillis(200), Duration.ofMillis(20), 64, 256);

    public SimulatorConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(ttft, "ttft");
        Objects.requireNonNull(itl, "itl");
        Objects.requireNonNull(prefillPerToken, "prefillPerToken");
    }

    /** The KV cache and batching at their defaults. */
    public SimulatorConfig(String model, int port, Duration ttft, Duration itl, int maxTokens, int maxNumSeqs) {
        this(model, port, ttft, itl, maxTokens, maxNumSeqs, DEFAULT_KV_BLOCKS, DEFAULT_PREFILL_PER_TOKEN,
                DEFAULT_BATCH_SLOWDOWN, true);
    }
}
