package io.sluice.admin.ui;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sign-in attempts per client address: at most {@link #MAX_ATTEMPTS} failed ones per
 * {@link #WINDOW} (the window starts at the first failure); beyond that every attempt is refused
 * with 429 until the window ends, the right token too, so guessing costs a window per few guesses.
 * A successful sign-in clears the address's count. Bounded: the least recent addresses are forgotten first.
 */
final class LoginLimiter {
    static final int MAX_ATTEMPTS = 5;
    static final Duration WINDOW = Duration.ofMinutes(1);

    private final Cache<String, AtomicInteger> failures = Caffeine.newBuilder()
            .expireAfterWrite(WINDOW).maximumSize(10_000).build();

    /** Whether this client may try now. */
    boolean allowed(String client) {
        AtomicInteger n = failures.getIfPresent(key(client));
        return n == null || n.get() < MAX_ATTEMPTS;
    }

    void failed(String client) {
        failures.asMap().computeIfAbsent(key(client), k -> new AtomicInteger()).incrementAndGet();
    }

    void succeeded(String client) {
        failures.invalidate(key(client));
    }

    long retryAfterSeconds() {
        return WINDOW.toSeconds();
    }

    private static String key(String client) {
        return client == null ? "" : client;
    }
}
