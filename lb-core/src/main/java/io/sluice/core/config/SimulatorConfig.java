package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * An in-process simulated vLLM server (lb-sim), so the gateway can be run and tested without GPUs.
 *
 * @param port       0 for an ephemeral port
 * @param ttft       time to first token
 * @param itl        inter-token latency
 * @param maxTokens  most tokens generated for one request
 * @param maxNumSeqs sequences decoded concurrently; more requests queue, as in vLLM
 */
public record SimulatorConfig(String model, int port, Duration ttft, Duration itl, int maxTokens, int maxNumSeqs) {
    public static final SimulatorConfig DEFAULT = new SimulatorConfig("demo", 0, Duration.ofMillis(200), Duration.ofMillis(20), 64, 256);

    public SimulatorConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(ttft, "ttft");
        Objects.requireNonNull(itl, "itl");
    }
}
