package io.sluice.http.server;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.route.RouteTable;
import io.sluice.core.route.RouteTarget;

/**
 * Matches the request's path to a route (longest prefix, read per request: a reload may have replaced
 * the table) and sets its target: the admin API, one of the public endpoints Sluice answers on proxied
 * routes, or the route's pool. A route that chooses its pool by model leaves the target open for the
 * body phase, or sets its fallback pool for requests that name no model.
 */
final class Routing implements ExchangeFilter {
    private final RouteTable routes;
    private final AdminRoutes admin;

    Routing(RouteTable routes, AdminRoutes admin) {
        this.routes = routes;
        this.admin = admin;
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        RouteConfig route = routes.current().match(rc.path());
        if (route == null) {
            return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.NOT_FOUND, "route_not_found",
                    "no route for path " + rc.path());
        }
        rc.route(route);
        HttpRequest req = rc.request();
        if (!route.allows(req.method().name())
                && !(req.method().equals(HttpMethod.OPTIONS) && req.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD))) {
            // A CORS preflight passes: the CORS filter answers it.
            FullHttpResponse r = GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed", req.method() + " is not allowed on " + route.pathPrefix()
                            + " (allowed: " + String.join(", ", route.methods()) + ")");
            r.headers().set(HttpHeaderNames.ALLOW, String.join(", ", route.methods()));
            return r;
        }
        if (route.admin()) {
            rc.target(RouteTarget.Admin.API);
        } else if (admin.hasPublic() && admin.matchPublic(rc.request().method(), rc.path(), route) != null) {
            rc.target(RouteTarget.Admin.PUBLIC);
        } else if (route.pool() != null) {
            rc.target(new RouteTarget.Pool(route.pool()));
        } else if (route.staticFiles() != null) {
            rc.target(new RouteTarget.Static(route.staticFiles()));
        } else if (route.service() != null) {
            rc.target(new RouteTarget.Service(route.service()));
        }
        return null;
    }
}
