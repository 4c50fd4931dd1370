package io.sluice.core.config;

import java.util.Objects;

/**
 * One JSON line per finished request.
 *
 * @param output    {@code stdout} or a file path (appended to)
 * @param queueSize lines waiting for the writer thread; beyond it lines are dropped and counted, never waited for
 */
public record AccessLogConfig(String output, int queueSize) {
    public AccessLogConfig {
        Objects.requireNonNull(output, "output");
    }

    public boolean stdout() {
        return output.equals("stdout");
    }
}
