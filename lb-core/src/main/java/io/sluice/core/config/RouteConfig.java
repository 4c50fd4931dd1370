package io.sluice.core.config;

import java.util.Objects;

/**
 * Sends requests whose path starts with {@code pathPrefix} either to a pool or to the admin API.
 *
 * @param pool          the pool name; null when {@code admin} is true, and also allowed to be null on a
 *                      {@code byModel} route (which then has no pool for requests that name no model)
 * @param auth          API keys for this route instead of the listener's; null to inherit
 * @param open          true when the route needs no API key even if the listener asks for one
 * @param byModel       the pool is chosen by the request body's {@code model} among the pools that declare
 *                      {@code models:}; {@code pool} is then the one for requests that name no model
 * @param forceModel    the model the forwarded body carries instead of the client's; already resolved from an
 *                      alias to the real name at load time; null to keep the client's
 * @param prefixRewrite what replaces the matched {@code pathPrefix} towards the upstream; null to keep the path
 * @param headers       header rules of this route; {@link HeaderRules#NONE} (never null) when there are none
 * @param methods       the methods this route serves (upper case); empty for every method. Another method
 *                      on its path is answered 405 with {@code Allow}
 * @param provider      on a pass-through route ({@code provider: NAME}): the provider whose key is injected;
 *                      {@code pool} is then its pool and {@code prefixRewrite} its base path
 * @param gateway       {@link #GATEWAY_CHAT} ({@code /api/chat}) or {@link #GATEWAY_MESSAGES} (Anthropic's
 *                      {@code /v1/messages}): the body is translated for the provider it names; no pool
 * @param staticFiles   a {@code static:} route: files answer it; no pool
 * @param service       a {@code service:} route: one of {@link ServicesConfig#NAMES}, answered by Sluice; no pool
 */
public record RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open,
                          boolean byModel, String forceModel, String prefixRewrite, HeaderRules headers,
                          java.util.List<String> methods, String provider, String gateway, StaticConfig staticFiles,
                          String service) {
    public static final String GATEWAY_CHAT = "chat";
    public static final String GATEWAY_MESSAGES = "messages";

    public RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open,
                       boolean byModel, String forceModel, String prefixRewrite, HeaderRules headers,
                       java.util.List<String> methods, String provider, String gateway) {
        this(pathPrefix, pool, admin, auth, open, byModel, forceModel, prefixRewrite, headers, methods, provider, gateway,
                null, null);
    }

    public RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open,
                       boolean byModel, String forceModel, String prefixRewrite, HeaderRules headers,
                       java.util.List<String> methods) {
        this(pathPrefix, pool, admin, auth, open, byModel, forceModel, prefixRewrite, headers, methods, null, null);
    }

    public RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open,
                       boolean byModel, String forceModel, String prefixRewrite, HeaderRules headers) {
        this(pathPrefix, pool, admin, auth, open, byModel, forceModel, prefixRewrite, headers, java.util.List.of());
    }

    public RouteConfig(String pathPrefix, String pool, boolean admin) {
        this(pathPrefix, pool, admin, null, false);
    }

    public RouteConfig(String pathPrefix, String pool, boolean admin, AccessConfig.Auth auth, boolean open) {
        this(pathPrefix, pool, admin, auth, open, false, null, null, HeaderRules.NONE);
    }

    public RouteConfig {
        Objects.requireNonNull(pathPrefix, "pathPrefix");
        headers = headers == null ? HeaderRules.NONE : headers;
        methods = methods == null ? java.util.List.of() : java.util.List.copyOf(methods);
        if (admin && pool != null || !admin && pool == null && !byModel && gateway == null && staticFiles == null
                && service == null) {
            throw new IllegalArgumentException("a route needs either a pool (or by-model) or admin, not both or neither");
        }
        if (admin && (byModel || forceModel != null || prefixRewrite != null || !headers.isEmpty() || gateway != null
                || provider != null)) {
            throw new IllegalArgumentException("an admin route has no by-model, model, prefix-rewrite or headers");
        }
        if (prefixRewrite != null && !prefixRewrite.startsWith("/")) {
            throw new IllegalArgumentException("prefix-rewrite must start with '/'");
        }
    }

    /** True when this route serves requests of this method (all, unless {@code methods:} names some). */
    public boolean allows(String method) {
        return methods.isEmpty() || methods.contains(method);
    }

    /**
     * True if this route serves {@code path} (without query string). A prefix ending in {@code /} also
     * matches the path without that slash, so {@code /v1/} serves {@code /v1} instead of leaving it to a 404.
     */
    public boolean matches(String path) {
        return path.startsWith(pathPrefix)
                || (pathPrefix.endsWith("/") && path.length() == pathPrefix.length() - 1 && pathPrefix.startsWith(path));
    }

    /**
     * The request URI (origin form, path and query) to send upstream: the matched prefix replaced by
     * {@code prefixRewrite}, the rest of the path and the query kept. Where the two meet a doubled slash
     * becomes one, and an empty path becomes {@code /}. Unchanged when there is no rewrite, and also
     * for a URI this route does not {@link #matches match} (or that is not in origin form).
     *
     * <p>{@code path: /api/dce/proxy, prefix-rewrite: /v1/chat/completions}: {@code /api/dce/proxy?x=1} →
     * {@code /v1/chat/completions?x=1}. {@code path: /api/vllm/, prefix-rewrite: /}: {@code /api/vllm/v1/models}
     * → {@code /v1/models}, {@code /api/vllm} → {@code /}.
     */
    public String upstreamUri(String uri) {
        if (prefixRewrite == null) {
            return uri;
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (!matches(path)) {
            return uri;
        }
        String rest = path.length() >= pathPrefix.length() ? path.substring(pathPrefix.length()) : "";
        String joined = prefixRewrite.endsWith("/") && rest.startsWith("/")
                ? prefixRewrite + rest.substring(1) : prefixRewrite + rest;
        if (joined.isEmpty()) {
            joined = "/";
        }
        return q < 0 ? joined : joined + uri.substring(q);
    }
}
