package io.sluice.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How {@code POST /api/v1/inference/up} launches inference servers: a command template run without
 * a shell, one process per replica on a free local port; they join {@code pool} once healthy.
 *
 * @param pool           where launched replicas join; null when inference launching is not configured
 * @param command        argv template, split on whitespace before substitution of {@code {model}},
 *                       {@code {port}}, {@code {dtype}} and {@code {replica}}
 * @param readyTimeout   how long {@code up} waits for every replica to pass its health check
 * @param restart        restart a crashed process (with backoff doubling from {@code restartBackoff} up to a minute)
 * @param outputLines    lines of a process's output kept for error answers
 * @param maxProcesses   supervised processes at most, over every {@code up}: each holds a GPU's worth of memory
 */
public record InferenceConfig(String pool, List<String> command, Duration readyTimeout, boolean restart,
                              Duration restartBackoff, int outputLines, int maxProcesses) {
    public static final List<String> DEFAULT_COMMAND = List.of("vllm", "serve", "{model}", "--port", "{port}", "--dtype", "{dtype}");
    public static final int DEFAULT_MAX_PROCESSES = 8;
    public static final InferenceConfig NONE = new InferenceConfig(null, DEFAULT_COMMAND, Duration.ofMinutes(10), true,
            Duration.ofSeconds(1), 50, DEFAULT_MAX_PROCESSES);

    /** With the default process cap. */
    public InferenceConfig(String pool, List<String> command, Duration readyTimeout, boolean restart,
                           Duration restartBackoff, int outputLines) {
        this(pool, command, readyTimeout, restart, restartBackoff, outputLines, DEFAULT_MAX_PROCESSES);
    }

    public InferenceConfig {
        command = List.copyOf(command);
        Objects.requireNonNull(readyTimeout, "readyTimeout");
        Objects.requireNonNull(restartBackoff, "restartBackoff");
    }

    public boolean enabled() {
        return pool != null;
    }
}
