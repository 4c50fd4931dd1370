package io.sluice.core.balance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The balance policies a pool's {@code balancer:} may name. The config loader validates names
 * against {@link #names()}, so a typo is a located config error, not a failure at start.
 * A pool gets its own instance (a policy may keep per-pool state, such as a round-robin cursor).
 */
public final class BalancePolicies {
    private static final Map<String, Supplier<BalancePolicy>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put("least-connections", LeastConnections::new);
        REGISTRY.put("round-robin", RoundRobin::new);
    }

    private BalancePolicies() {
    }

    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    public static BalancePolicy create(String name) {
        Supplier<BalancePolicy> s = REGISTRY.get(name);
        if (s == null) {
            throw new IllegalArgumentException("balancer '" + name + "' is not one of " + names());
        }
        return s.get();
    }
}
