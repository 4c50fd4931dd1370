package io.sluice.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.sluice.core.config.AdminConfig;
import io.sluice.core.config.RouteConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The admin API's route table: method plus a path pattern whose {@code {name}} segments bind
 * path parameters ({@code /api/v1/backends/{id}}). New admin features only add routes here.
 */
public final class AdminRoutes {

    private final List<Entry> entries = new ArrayList<>();
    private AdminAccess access = new AdminAccess(AdminConfig.DEFAULT);

    /**
     * Paths Sluice answers itself on <em>proxied</em> routes, without admin access control
     * ({@code GET /v1/models}); exact paths only, so the check per proxied request is one map lookup.
     */
    private final Map<String, Map<HttpMethod, Public>> open = new HashMap<>();

    private record Public(AsyncAdminEndpoint endpoint, Predicate<RouteConfig> answers) {
    }

    /**
     * @param answers given the route's pool, whether Sluice can answer now; when it cannot, the
     *                request is proxied as if the endpoint did not exist
     */
    public AdminRoutes addPublic(HttpMethod method, String path, Predicate<String> answers, AdminEndpoint endpoint) {
        return addPublicForRoute(method, path, route -> answers.test(route.pool()), endpoint);
    }

    /**
     * @param answers given the proxied route (its pool, whether it routes by model), whether Sluice can
     *                answer now; when it cannot, the request is proxied as if the endpoint did not exist
     */
    public AdminRoutes addPublicForRoute(HttpMethod method, String path, Predicate<RouteConfig> answers,
                                         AdminEndpoint endpoint) {
        open.computeIfAbsent(path, k -> new HashMap<>())
                .put(method, new Public(r -> CompletableFuture.completedFuture(endpoint.handle(r)), answers));
        return this;
    }

    /** The public endpoint for a request on a proxied route to {@code pool}, or null to proxy it. */
    public AsyncAdminEndpoint matchPublic(HttpMethod method, String path, String pool) {
        return matchPublic(method, path, new RouteConfig("/", pool, false, null, false, pool == null, null, null, null));
    }

    /** The public endpoint for a request on the proxied {@code route}, or null to proxy it. */
    public AsyncAdminEndpoint matchPublic(HttpMethod method, String path, RouteConfig route) {
        Map<HttpMethod, Public> byMethod = open.get(path);
        Public p = byMethod == null ? null : byMethod.get(method);
        return p != null && p.answers().test(route) ? p.endpoint() : null;
    }

    public boolean hasPublic() {
        return !open.isEmpty();
    }

    /** Who may call these routes; the default lets loopback clients in and nobody else. */
    public AdminRoutes access(AdminAccess access) {
        this.access = access;
        return this;
    }

    public AdminAccess access() {
        return access;
    }

    public AdminRoutes add(HttpMethod method, String pattern, AdminEndpoint endpoint) {
        return addAsync(method, pattern, r -> CompletableFuture.completedFuture(endpoint.handle(r)));
    }

    /** A route answered later: see {@link AsyncAdminEndpoint}. */
    public AdminRoutes addAsync(HttpMethod method, String pattern, AsyncAdminEndpoint endpoint) {
        entries.add(new Entry(method, pattern.split("/"), endpoint));
        return this;
    }

    /** The outcome of matching: the endpoint with its bound parameters, or why there is none. */
    public record Match(AsyncAdminEndpoint endpoint, Map<String, String> params, boolean pathKnown) {
    }

    public Match match(HttpMethod method, String path) {
        String[] segs = path.split("/");
        boolean pathKnown = false;
        for (Entry e : entries) {
            Map<String, String> params = e.bind(segs);
            if (params == null) {
                continue;
            }
            pathKnown = true;
            if (e.method.equals(method) || (method.equals(HttpMethod.HEAD) && e.method.equals(HttpMethod.GET))) {
                return new Match(e.endpoint, params, true);
            }
        }
        return new Match(null, Collections.emptyMap(), pathKnown);
    }

    private record Entry(HttpMethod method, String[] pattern, AsyncAdminEndpoint endpoint) {
        Map<String, String> bind(String[] segs) {
            if (segs.length != pattern.length) {
                return null;
            }
            Map<String, String> params = null;
            for (int i = 0; i < segs.length; i++) {
                String p = pattern[i];
                if (p.startsWith("{") && p.endsWith("}")) {
                    if (segs[i].isEmpty()) {
                        return null;
                    }
                    if (params == null) {
                        params = new HashMap<>(4);
                    }
                    params.put(p.substring(1, p.length() - 1), segs[i]);
                } else if (!p.equals(segs[i])) {
                    return null;
                }
            }
            return params == null ? Collections.emptyMap() : params;
        }
    }
}
