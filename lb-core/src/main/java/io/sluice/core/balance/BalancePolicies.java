package io.sluice.core.balance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.sluice.core.config.RoutingConfig;
import java.util.function.Function;

/**
 * The balance policies a pool's {@code balancer:} may name. The config loader validates names
 * against {@link #names()}, so a typo is a located config error, not a failure at start.
 * A pool gets its own instance (a policy may keep per-pool state, such as a round-robin cursor).
 */
public final class BalancePolicies {
    private static final Map<String, Function<RoutingConfig, BalancePolicy>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put("least-connections", r -> new LeastConnections());
        REGISTRY.put("round-robin", r -> new RoundRobin());
        REGISTRY.put("power-of-two", PowerOfTwo::new);
        REGISTRY.put("prefix-affinity", PrefixAffinity::new);
        REGISTRY.put("session", SessionAffinity::new);
        REGISTRY.put("load-aware", LoadAware::new);
    }

    /** Policies that hash the prompt's leading blocks: only their pools' requests have their body read for it. */
    public static boolean needsPrefix(String name) {
        return "prefix-affinity".equals(name);
    }

    /** Policies that stick a session key to a backend. */
    public static boolean needsSession(String name) {
        return "session".equals(name);
    }

    private BalancePolicies() {
    }

    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    public static BalancePolicy create(String name) {
        return create(name, RoutingConfig.DEFAULT);
    }

    /** @param routing the pool's {@code routing:} settings, for the policies that have any */
    public static BalancePolicy create(String name, RoutingConfig routing) {
        Function<RoutingConfig, BalancePolicy> s = REGISTRY.get(name);
        if (s == null) {
            throw new IllegalArgumentException("balancer '" + name + "' is not one of " + names());
        }
        return s.apply(routing);
    }
}
