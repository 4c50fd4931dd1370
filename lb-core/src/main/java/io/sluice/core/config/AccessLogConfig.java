package io.sluice.core.config;

import java.util.Objects;

/**
 * One JSON line per finished request.
 *
 * @param output    {@code stdout} or a file path (appended to)
 * @param queueSize lines waiting for the writer thread; beyond it lines are dropped and counted, never waited for
 * @param maxSize   bytes after which the file is rotated ({@code file} to {@code file.1}, {@code file.1} to
 *                  {@code file.2}, ...); 0 for never (an external logrotate then renames it and sends SIGUSR1)
 * @param maxFiles  rotated files kept beside the current one; older ones are deleted
 */
public record AccessLogConfig(String output, int queueSize, long maxSize, int maxFiles) {
    public static final int DEFAULT_MAX_FILES = 5;

    public AccessLogConfig {
        Objects.requireNonNull(output, "output");
        if (maxSize < 0 || maxFiles < 1) {
            throw new IllegalArgumentException("max-size must be >= 0 and max-files >= 1");
        }
    }

    public AccessLogConfig(String output, int queueSize) {
        this(output, queueSize, 0, DEFAULT_MAX_FILES);
    }

    public boolean stdout() {
        return output.equals("stdout");
    }
}
