package io.sluice.http.access;

import io.sluice.core.auth.ApiKeys;
import io.sluice.core.config.AccessConfig;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.ratelimit.RateLimiter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A listener's access rules, loaded once: key sets (hashed), rate limiters, CORS. Shared by its connections. */
public final class AccessPolicy {
    final ApiKeys listenerKeys;
    final Map<String, ApiKeys> routeKeys = new HashMap<>();
    final RateLimiter perKey;
    final RateLimiter perIp;
    final AccessConfig.Cors cors;

    private AccessPolicy(ListenerConfig config, AccessPolicy previous, AccessPolicy sharedLimits) throws IOException {
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
            perKey = limiter(a.perKey(), previous == null ? null : previous.perKey);
            perIp = limiter(a.perIp(), previous == null ? null : previous.perIp);
        }
        cors = a.cors();
    }

    /** A limiter with these limits; the previous one (and its counts) when a reload kept them. */
    private static RateLimiter limiter(AccessConfig.Limit limit, RateLimiter previous) {
        if (limit == null) {
            return null;
        }
        if (previous != null && previous.requestsPerMinute() == limit.requestsPerMinute()
                && previous.tokensPerMinute() == limit.tokensPerMinute()) {
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
        boolean routeAuth = config.routes().stream().anyMatch(r -> r.auth() != null);
        return config.access() == AccessConfig.NONE && !routeAuth ? null : new AccessPolicy(config, previous, sharedLimits);
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
