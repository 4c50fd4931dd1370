package io.sluice.core.config;

import java.time.Duration;

/**
 * A pool's {@code routing:} block: the knobs of the LLM-aware balance policies ({@code prefix-affinity},
 * {@code session}, {@code load-aware}, {@code power-of-two}). Other policies ignore it.
 *
 * @param loadFactor     bounded load (consistent hashing with bounded loads, Mirrokni et al.): an affine
 *                       backend is acceptable only while its in-flight count is below
 *                       {@code ceil(loadFactor × (total in-flight + 1) / backends)}
 * @param prefixBlocks   how many leading prompt blocks are hashed for {@code prefix-affinity}
 * @param blockChars     characters of rendered prompt per block
 * @param sessionHeader  the request header whose value is the session key ({@code session}), lower case;
 *                       without it the body's {@code user} field is the key
 * @param staleAfter     a scraped vLLM load sample older than this is ignored (in-flight counts only)
 * @param waitingWeight  load score per request waiting in vLLM's queue
 * @param runningWeight  load score per request running in vLLM's batch (and per in-flight request the scrape has not seen)
 * @param kvWeight       load score for a full KV cache (scaled by {@code vllm:kv_cache_usage_perc}, 0..1)
 */
public record RoutingConfig(double loadFactor, int prefixBlocks, int blockChars, String sessionHeader,
                            Duration staleAfter, double waitingWeight, double runningWeight, double kvWeight) {
    public static final RoutingConfig DEFAULT = new RoutingConfig(1.25, 16, 64, "x-session-id",
            Duration.ofSeconds(15), 4, 1, 4);

    public RoutingConfig {
        if (!(loadFactor >= 1)) {
            throw new IllegalArgumentException("load-factor must be at least 1");
        }
        if (prefixBlocks < 1 || blockChars < 1) {
            throw new IllegalArgumentException("prefix-blocks and block-chars must be at least 1");
        }
        if (staleAfter == null || staleAfter.isNegative()) {
            throw new IllegalArgumentException("stale-after must not be negative");
        }
        sessionHeader = sessionHeader == null || sessionHeader.isEmpty() ? null : sessionHeader.toLowerCase(java.util.Locale.ROOT);
    }
}
