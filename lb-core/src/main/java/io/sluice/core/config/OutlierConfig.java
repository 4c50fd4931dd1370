package io.sluice.core.config;

import java.time.Duration;

/**
 * Passive health: {@code consecutiveFailures} connect failures or 5xx in a row eject a backend for
 * {@code ejection}, doubled on each repeat up to {@code maxEjection}; active checks readmit it after.
 * 4xx do not count: they are the client's fault.
 */
public record OutlierConfig(boolean enabled, int consecutiveFailures, Duration ejection, Duration maxEjection) {
    public static final OutlierConfig DEFAULT = new OutlierConfig(true, 5, Duration.ofSeconds(10), Duration.ofMinutes(5));
}
