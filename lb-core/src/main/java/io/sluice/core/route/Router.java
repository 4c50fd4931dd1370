package io.sluice.core.route;

import io.sluice.core.config.RouteConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Longest-prefix routing of a request path to one of a listener's routes. */
public final class Router {

    private final RouteConfig[] byLengthDesc;

    public Router(List<RouteConfig> routes) {
        List<RouteConfig> sorted = new ArrayList<>(routes);
        sorted.sort(Comparator.comparingInt((RouteConfig r) -> r.pathPrefix().length()).reversed());
        this.byLengthDesc = sorted.toArray(new RouteConfig[0]);
    }

    /** @param path the request path without query string; @return the route, or null for no match */
    public RouteConfig match(String path) {
        for (RouteConfig r : byLengthDesc) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }
}
