package io.sluice.core.model;

import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.SluiceConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which models the gateway serves, by which pool, and the aliases that lead to them; immutable, built
 * from a validated config (so every alias resolves and every model belongs to exactly one pool).
 * Build a new one per config: a reload swaps it with the config.
 */
public final class ModelCatalog {
    /** No pool declares models. */
    public static final ModelCatalog EMPTY = new ModelCatalog(Map.of(), Map.of());

    private static final int DESCRIBE_LIMIT = 300;

    private final Map<String, String> pools;   // real model -> pool, config order
    private final Map<String, String> aliases; // alias -> real model, config order
    private final List<String> served;

    private ModelCatalog(Map<String, String> pools, Map<String, String> aliases) {
        this.pools = Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        this.aliases = Collections.unmodifiableMap(new LinkedHashMap<>(aliases));
        this.served = List.copyOf(pools.keySet());
    }

    public static ModelCatalog of(SluiceConfig c) {
        Map<String, String> pools = new LinkedHashMap<>();
        for (PoolConfig p : c.pools().values()) {
            for (String m : p.models()) {
                pools.putIfAbsent(m, p.name());
            }
        }
        Map<String, String> declared = c.models().aliases();
        Map<String, String> aliases = new LinkedHashMap<>();
        for (String alias : declared.keySet()) {
            if (pools.containsKey(alias)) {
                continue; // a served model is never shadowed (the loader refuses it anyway)
            }
            String cur = declared.get(alias);
            // Bounded walk: the loader refuses cycles, this only keeps a hand-built config from looping.
            for (int hops = 0; hops <= declared.size() && cur != null && !pools.containsKey(cur); hops++) {
                cur = declared.get(cur);
            }
            if (cur != null && pools.containsKey(cur)) {
                aliases.put(alias, cur);
            }
        }
        return pools.isEmpty() && aliases.isEmpty() ? EMPTY : new ModelCatalog(pools, aliases);
    }

    /** The real model for a name a client sent (a served name, or an alias followed to its end); null if unknown. */
    public String resolve(String requested) {
        if (requested == null) {
            return null;
        }
        return pools.containsKey(requested) ? requested : aliases.get(requested);
    }

    /** The pool that serves {@code realModel}, or null; resolve aliases first. */
    public String poolFor(String realModel) {
        return realModel == null ? null : pools.get(realModel);
    }

    /** Real model names, in config order (pool by pool). */
    public List<String> served() {
        return served;
    }

    /** Alias to the real model it resolves to, in config order. */
    public Map<String, String> aliases() {
        return aliases;
    }

    public boolean isEmpty() {
        return pools.isEmpty();
    }

    /**
     * For error messages: {@code llama-3-8b, qwen-coder (aliases: default, gpt-4o)}, at most about 300
     * characters; what does not fit is counted ({@code ... and 12 more}).
     */
    public String describe() {
        if (pools.isEmpty()) {
            return "no models are configured";
        }
        StringBuilder out = new StringBuilder();
        int left = list(out, served, DESCRIBE_LIMIT);
        if (!aliases.isEmpty() && left > 0) {
            out.append(" (aliases: ");
            list(out, new ArrayList<>(aliases.keySet()), left);
            out.append(')');
        }
        return out.toString();
    }

    /** Appends names while they fit in {@code budget} characters; returns the budget left. */
    private static int list(StringBuilder out, List<String> names, int budget) {
        int start = out.length();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            int used = out.length() - start;
            if (i > 0 && used + n.length() + 2 > budget) {
                out.append(" ... and ").append(names.size() - i).append(" more");
                return 0;
            }
            if (i > 0) {
                out.append(", ");
            }
            out.append(n.length() > budget ? n.substring(0, budget) + "..." : n);
        }
        return budget - (out.length() - start);
    }

    @Override
    public String toString() {
        return "ModelCatalog[" + describe() + "]";
    }

    /** For tests and the admin API: model to pool. */
    public Map<String, String> pools() {
        return pools;
    }
}
