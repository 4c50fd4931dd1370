package io.sluice.core.config;

/**
 * When a failed upstream attempt is tried again on another backend.
 *
 * <p>Only before any response byte: a connect failure (nothing was sent) always qualifies; a reset
 * after the request was sent qualifies only when the whole request was held (at most
 * {@code replayBodyLimit} bytes) and the method is idempotent or {@code nonIdempotent} allows it.
 * The budget caps retries at {@code budgetPercent} of the pool's in-flight requests (at least 3),
 * so a dead pool is not hammered with retries.
 */
public record RetryConfig(int attempts, int budgetPercent, boolean nonIdempotent, long replayBodyLimit) {
    public static final RetryConfig DEFAULT = new RetryConfig(2, 20, false, 64 * 1024);
}
