package io.sluice.core.config;

import java.util.Objects;

/**
 * Sends requests whose path starts with {@code pathPrefix} either to a pool or to the admin API.
 *
 * @param pool  the pool name; null exactly when {@code admin} is true
 * @param auth  API keys for this route instead of the listener's; null to inherit
 * @param open  true when the route needs no API key even if the listener asks for one
 */
public record RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open) {
    public RouteConfig(String pathPrefix, String pool, boolean admin) {
        this(pathPrefix, pool, admin, null, false);
    }

    public RouteConfig {
        Objects.requireNonNull(pathPrefix, "pathPrefix");
        if ((pool == null) != admin) {
            throw new IllegalArgumentException("a route needs either a pool or admin, not both or neither");
        }
    }

    /**
     * True if this route serves {@code path} (without query string). A prefix ending in {@code /} also
     * matches the path without that slash, so {@code /v1/} serves {@code /v1} instead of leaving it to a 404.
     */
    public boolean matches(String path) {
        return path.startsWith(pathPrefix)
                || (pathPrefix.endsWith("/") && path.length() == pathPrefix.length() - 1 && pathPrefix.startsWith(path));
    }
}
