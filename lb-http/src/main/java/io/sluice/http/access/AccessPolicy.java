package io.sluice.http.access;

import io.sluice.core.auth.ApiKeys;
import io.sluice.core.config.AccessConfig;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.ratelimit.Limiter;
import io.sluice.core.ratelimit.RateLimiter;
import io.sluice.http.ratelimit.RedisLimits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A listener's access rules, loaded once: key sets (hashed), rate limiters, CORS. Shared by its connections. */
public final class AccessPolicy {
    final ApiKeys listenerKeys;
    final Map<String, ApiKeys> routeKeys = new HashMap<>();
    final Limiter perKey;
    final Limiter perIp;
    final AccessConfig.Cors cors;

    private AccessPolicy(ListenerConfig config, AccessPolicy previous, AccessPolicy sharedLimits, RedisLimits stores) throws IOException {
        AccessConfig a = config.access();
        listenerKeys = a.auth() == null ? null : load(a.auth());
        for (RouteConfig r : config.routes()) {
            if (r.auth() != null) {
                routeKeys.put(r.pathPrefix(), load(r.auth()));
            }
        }
        if (sharedLimits != null) {
            perKey = sharedLimits.perKey; // one budget per client, whichever port it comes in on
            perIp = sharedLimits.perIp;
        } else {
            perKey = limiter(a.perKey(), a.store(), stores, config.name() + "/key", previous == null ? null : previous.perKey);
            perIp = limiter(a.perIp(), a.store(), stores, config.name() + "/ip", previous == null ? null : previous.perIp);
        }
        cors = a.cors();
    }

    /**
     * A limiter with these limits, local or in the shared store; the previous one (and its counts) when
     * a reload kept them.
     */
    private static Limiter limiter(AccessConfig.Limit limit, AccessConfig.LimitStore store, RedisLimits stores, String scope,
                                   Limiter previous) {
        if (limit == null) {
            return null;
        }
        if (store != null && stores != null) {
            if (RedisLimits.same(previous, store, limit.requestsPerMinute(), limit.tokensPerMinute())) {
                return previous;
            }
            return stores.limiter(store, scope, limit.requestsPerMinute(), limit.tokensPerMinute());
        }
        if (previous instanceof RateLimiter p && p.requestsPerMinute() == limit.requestsPerMinute()
                && p.tokensPerMinute() == limit.tokensPerMinute()) {
            return previous;
        }
        return new RateLimiter(limit.requestsPerMinute(), limit.tokensPerMinute());
    }

    /** @return null when the listener has no access rules at all (no handler in its pipeline) */
    public static AccessPolicy of(ListenerConfig config) throws IOException {
        return of(config, null);
    }

    /** As {@link #of(ListenerConfig)}, re-reading key files; rate-limit counts carry over from {@code previous} where unchanged. */
    public static AccessPolicy of(ListenerConfig config, AccessPolicy previous) throws IOException {
        return of(config, previous, null);
    }

    /**
     * @param sharedLimits a policy built from the same access settings whose rate limiters are used
     *                     instead of new or previous ones (the compat listener's mirrored listener), or null
     */
    public static AccessPolicy of(ListenerConfig config, AccessPolicy previous, AccessPolicy sharedLimits) throws IOException {
        return of(config, previous, sharedLimits, null);
    }

    /** @param stores the gateway's shared rate-limit stores, for {@code rate-limits.store}; null keeps every bucket local */
    public static AccessPolicy of(ListenerConfig config, AccessPolicy previous, AccessPolicy sharedLimits, RedisLimits stores)
            throws IOException {
        boolean routeAuth = config.routes().stream().anyMatch(r -> r.auth() != null);
        return config.access() == AccessConfig.NONE && !routeAuth ? null : new AccessPolicy(config, previous, sharedLimits, stores);
    }

    private static ApiKeys load(AccessConfig.Auth auth) throws IOException {
        return ApiKeys.load(auth.keysFile() == null ? null : Path.of(auth.keysFile()),
                auth.keysEnv() == null ? null : System.getenv(auth.keysEnv()));
    }

    /** The keys a route requires, or null when it is open. */
    ApiKeys keysFor(RouteConfig route) {
        if (route.admin() || route.open()) {
            return null; // the admin API has its own access control
        }
        ApiKeys k = routeKeys.get(route.pathPrefix());
        return k != null ? k : listenerKeys;
    }
}
