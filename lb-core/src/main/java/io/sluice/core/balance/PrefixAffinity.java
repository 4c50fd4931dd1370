package io.sluice.core.balance;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.RoutingConfig;
import java.util.List;

/**
 * Prefix-cache affinity: a backend that served a prompt with the same leading blocks still holds
 * their KV cache, and answers the next one without computing them again (the idea of SGLang's
 * cache-aware router and llm-d's prefix scorer, approximated from what Sluice itself sent).
 *
 * <p>The request carries the chained hashes of its prompt's leading blocks ({@link BalanceRequest#prefixBlocks()});
 * since each hash covers its block and every block before it, "backend X served block i" means X saw
 * the whole prefix up to i. The pool keeps a bounded map block hash → the backend that most recently
 * served it, and chooses the backend owning the deepest block, if that backend is acceptable under the
 * bound ({@link Load.Bounds}: in-flight below {@code ceil(load-factor × (total + 1) / n)}, no waiting
 * queue while another backend has none); else the owner of the next deepest block; else the least loaded
 * acceptable backend. The chosen backend then owns all of the request's blocks.
 */
public final class PrefixAffinity implements BalancePolicy {
    /** Block hashes remembered per pool: 16 blocks of 10k distinct prompts. */
    static final int MAX_BLOCKS = 160_000;

    private final Cache<Long, Backend> owners = Caffeine.newBuilder().maximumSize(MAX_BLOCKS).build();
    private volatile RoutingConfig routing;

    public PrefixAffinity(RoutingConfig routing) {
        this.routing = routing;
    }

    @Override
    public void routing(RoutingConfig r) {
        routing = r;
    }

    @Override
    public Backend choose(List<Backend> backends, BalanceRequest request, int maxInFlight, List<Backend> exclude) {
        Load.Bounds bounds = Load.Bounds.of(backends, maxInFlight, exclude, routing);
        if (bounds == null) {
            return null;
        }
        long[] blocks = request.prefixBlocks();
        int k = blocks == null ? 0 : blocks.length;
        Backend chosen = null;
        int depth = 0;
        String refused = null;
        for (int i = k - 1; i >= 0 && chosen == null; i--) {
            Backend owner = owners.getIfPresent(blocks[i]);
            if (owner == null || !BalancePolicy.eligible(owner, maxInFlight, exclude) || !backends.contains(owner)) {
                continue;
            }
            String why = bounds.refusal(owner);
            if (why == null) {
                chosen = owner;
                depth = i + 1;
            } else if (refused == null) {
                refused = why;
            }
        }
        if (chosen == null) {
            chosen = bounds.leastLoaded(backends, maxInFlight, exclude);
        }
        for (int i = 0; i < k; i++) {
            owners.put(blocks[i], chosen);
        }
        request.explain("prefix-blocks=" + depth + "/" + k + (refused == null ? "" : "; " + refused));
        return chosen;
    }

    /** The backend that most recently served a prompt with this block, or null: for tests and status. */
    public Backend owner(long block) {
        return owners.getIfPresent(block);
    }
}
