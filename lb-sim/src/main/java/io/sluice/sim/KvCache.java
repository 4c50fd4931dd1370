package io.sluice.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The KV cache in blocks, with vLLM's automatic prefix caching: running sequences hold blocks, blocks of
 * computed prompt prefixes stay cached after their sequences end, and cached blocks nobody holds are
 * evicted least recently used first when a sequence needs room.
 *
 * <p>Simplification: a sequence reserves the blocks for its prompt and its whole output when it is
 * admitted, so the simulator never has to preempt (vLLM allocates as it decodes and preempts when it runs
 * out). What {@code vllm:kv_cache_usage_perc} reports is the part actually filled, see
 * {@link VllmSimulator#kvUsage()}.
 *
 * <p>Not thread-safe: guarded by the simulator's lock.
 */
final class KvCache {
    /** The blocks one running sequence holds. */
    static final class Allocation {
        /** Cached blocks this sequence references (its hit prefix, then the prompt blocks it computed). */
        final List<Long> shared = new ArrayList<>();
        /** Reserved blocks that are not in the cache: uncached prompt blocks not yet computed, and the output. */
        int privateBlocks;
        /** Blocks reserved in all, shared or not. */
        final int reserved;
        /** Leading prompt blocks found in the cache at admission. */
        final int hitBlocks;
        boolean committed;

        Allocation(int reserved, int hitBlocks) {
            this.reserved = reserved;
            this.hitBlocks = hitBlocks;
        }
    }

    private final int capacity;
    private final boolean caching;
    /** Cached blocks some running sequence holds, to their reference counts. */
    private final HashMap<Long, int[]> inUse = new HashMap<>();
    /** Cached blocks nobody holds, least recently used first. */
    private final LinkedHashSet<Long> evictable = new LinkedHashSet<>();
    /** Blocks held by running sequences, a shared block once. */
    private int reserved;
    private long evictions;

    KvCache(int capacity, boolean caching) {
        this.capacity = capacity;
        this.caching = caching;
    }

    /**
     * Reserves blocks for a prompt and {@code outputTokens} more, reusing the longest cached prefix of
     * whole blocks. At most {@code capacity} blocks are reserved, so a lone request always fits.
     *
     * @return null when the blocks are not free, even after evicting every evictable cached block
     */
    Allocation allocate(Prompt p, int outputTokens) {
        int need = Math.min(Prompt.blocksFor((long) p.tokens() + outputTokens), capacity);
        int hits = 0;
        int fromEvictable = 0;
        if (caching) {
            // vLLM computes at least the prompt's last token, so a prompt of whole blocks misses its last one.
            int maxHit = Math.min(Math.min((p.tokens() - 1) / Prompt.BLOCK_SIZE, p.blockHashes().length), need);
            while (hits < maxHit) {
                long h = p.blockHashes()[hits];
                if (evictable.contains(h)) {
                    fromEvictable++;
                } else if (!inUse.containsKey(h)) {
                    break;
                }
                hits++;
            }
        }
        int privateBlocks = need - hits;
        if (reserved + fromEvictable + privateBlocks > capacity) {
            return null;
        }
        Allocation a = new Allocation(need, hits);
        for (int i = 0; i < hits; i++) {
            hold(p.blockHashes()[i]);
            a.shared.add(p.blockHashes()[i]);
        }
        a.privateBlocks = privateBlocks;
        reserved += fromEvictable + privateBlocks;
        evictDownTo(capacity - reserved);
        return a;
    }

    /**
     * The prompt was computed: its whole blocks after the hit prefix enter the cache. A block another
     * sequence computed meanwhile stays private here (vLLM too keeps the duplicate).
     */
    void commit(Allocation a, Prompt p) {
        if (a.committed) {
            return;
        }
        a.committed = true;
        if (!caching) {
            return;
        }
        int end = Math.min(p.blockHashes().length, a.reserved);
        for (int i = a.hitBlocks; i < end; i++) {
            long h = p.blockHashes()[i];
            if (inUse.containsKey(h)) {
                continue;
            }
            // Either our computed block becomes the cached one, or we take the evictable cached copy and
            // free ours: the blocks held do not change.
            evictable.remove(h);
            inUse.put(h, new int[] {1});
            a.shared.add(h);
            a.privateBlocks--;
        }
    }

    /** The sequence ended: its private blocks are free, its cached blocks evictable once nobody holds them. */
    void free(Allocation a) {
        reserved -= a.privateBlocks;
        a.privateBlocks = 0;
        // Tail blocks first, so they are evicted before the prefix they extend (as vLLM frees them).
        for (int i = a.shared.size() - 1; i >= 0; i--) {
            long h = a.shared.get(i);
            int[] refs = inUse.get(h);
            if (--refs[0] == 0) {
                inUse.remove(h);
                evictable.add(h);
                reserved--;
            }
        }
        a.shared.clear();
    }

    int capacity() { return capacity; }
    /** Blocks reserved by running sequences. */
    int reserved() { return reserved; }
    /** Cached blocks nobody holds. */
    int evictable() { return evictable.size(); }
    long evictions() { return evictions; }

    /** Whether a block is cached, held or not. */
    boolean cached(long hash) {
        return inUse.containsKey(hash) || evictable.contains(hash);
    }

    private void hold(long h) {
        int[] refs = inUse.get(h);
        if (refs != null) {
            refs[0]++;
        } else {
            evictable.remove(h);
            inUse.put(h, new int[] {1});
        }
    }

    private void evictDownTo(int room) {
        for (Iterator<Long> it = evictable.iterator(); evictable.size() > Math.max(0, room) && it.hasNext(); ) {
            it.next();
            it.remove();
            evictions++;
        }
    }
}
