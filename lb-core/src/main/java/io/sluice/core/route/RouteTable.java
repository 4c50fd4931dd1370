package io.sluice.core.route;

import io.sluice.core.config.RouteConfig;
import java.util.List;

/**
 * A listener's current {@link Router}, swapped whole by a config reload and read once per request,
 * so open keep-alive connections see new routes from their next request on.
 */
public final class RouteTable {
    private volatile Router current;

    public RouteTable(List<RouteConfig> routes) {
        this.current = new Router(routes);
    }

    public Router current() {
        return current;
    }

    public void replace(List<RouteConfig> routes) {
        current = new Router(routes);
    }
}
