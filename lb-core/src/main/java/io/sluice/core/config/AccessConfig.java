package io.sluice.core.config;

import java.time.Duration;
import java.util.List;

/**
 * Who may use a listener's proxied routes, how much, and from which web origins.
 *
 * @param auth  client API keys required on pool routes (a route may override or be {@code public}); null for none
 * @param perKey limits per API key; null for none
 * @param perIp  limits per client address; null for none
 * @param cors   cross-origin rules for browsers; null for none (no CORS headers at all)
 * @param store  where the rate-limit buckets live: null for this process (per replica), or a shared store
 */
public record AccessConfig(Auth auth, Limit perKey, Limit perIp, Cors cors, LimitStore store) {
    public static final AccessConfig NONE = new AccessConfig(null, null, null, null, null);

    public AccessConfig(Auth auth, Limit perKey, Limit perIp, Cors cors) {
        this(auth, perKey, perIp, cors, null);
    }

    /**
     * {@code rate-limits.store}: buckets kept in Redis, so that replicas behind an L4 balancer share one
     * budget per client.
     *
     * @param redisUrl  {@code redis://[:password@]host[:port][/db]} or {@code rediss://...}; may hold a secret, never logged
     * @param failOpen  when Redis is unreachable: true admits by local per-replica buckets, false refuses with 503
     * @param timeout   the longest wait for Redis per check, after which the failure mode applies
     * @param keyPrefix prepended to every Redis key (several deployments may share one Redis)
     */
    public record LimitStore(String redisUrl, boolean failOpen, Duration timeout, String keyPrefix) {
        /** The URL without credentials, for logs and messages. */
        public String describe() {
            try {
                java.net.URI u = new java.net.URI(redisUrl);
                return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
            } catch (java.net.URISyntaxException e) {
                return "redis";
            }
        }

        @Override
        public String toString() { // a record's toString would print the password of the URL
            return "LimitStore[" + describe() + ", failOpen=" + failOpen + ", timeout=" + timeout + ", keyPrefix=" + keyPrefix + "]";
        }
    }

    /** Keys from a file ({@code name key} or {@code name sha256:<hex>} per line) and/or an environment variable. */
    public record Auth(String keysFile, String keysEnv) {
    }

    /** Zero means no limit of that kind. */
    public record Limit(long requestsPerMinute, long tokensPerMinute) {
    }

    public record Cors(List<String> origins, List<String> methods, List<String> headers, boolean credentials,
                       Duration maxAge) {
        public Cors {
            origins = List.copyOf(origins);
            methods = List.copyOf(methods);
            headers = List.copyOf(headers);
        }

        public boolean allows(String origin) {
            return origins.contains("*") || origins.contains(origin);
        }
    }
}
