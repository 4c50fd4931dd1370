package io.sluice.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.route.RouteTarget;

/**
 * Who may use the admin API ({@link AdminAccess}: a bearer token, or a loopback client on a loopback
 * host name; never a cross-site browser request), decided at the request head, before any body is read.
 */
public final class AdminAccessFilter implements ExchangeFilter {
    private final AdminRoutes routes;

    public AdminAccessFilter(AdminRoutes routes) {
        this.routes = routes;
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        if (rc.target() != RouteTarget.Admin.API) {
            return null;
        }
        try {
            routes.access().check(rc.channel(), rc.request().method(), rc.request().headers());
            return null;
        } catch (AdminException refused) {
            return AdminHandler.refusal(rc.channel().alloc(), refused);
        }
    }
}
