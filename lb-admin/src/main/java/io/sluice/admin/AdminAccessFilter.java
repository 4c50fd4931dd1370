package io.sluice.admin;

import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
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
            routes.access().check(rc.channel(), rc.request().method(), rc.path(), rc.request().headers());
            return null;
        } catch (AdminException refused) {
            if (refused.status().code() == 401 && rc.request().method().equals(HttpMethod.GET)
                    && ("/api/ui".equals(rc.path()) || "/api/ui/".equals(rc.path()))) {
                return signIn(rc); // a browser opening the dashboard without credentials: to the sign-in form
            }
            return AdminHandler.refusal(rc.channel().alloc(), refused);
        }
    }

    private static FullHttpResponse signIn(RequestContext rc) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SEE_OTHER,
                rc.channel().alloc().buffer(0));
        r.headers().set(HttpHeaderNames.LOCATION, "/api/ui/login")
                .set(HttpHeaderNames.CONTENT_LENGTH, 0)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set("x-sluice-error", "unauthorized");
        return r;
    }
}
