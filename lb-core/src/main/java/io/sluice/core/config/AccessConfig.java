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
 */
public record AccessConfig(Auth auth, Limit perKey, Limit perIp, Cors cors) {
    public static final AccessConfig NONE = new AccessConfig(null, null, null, null);

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
