package io.sluice.http.rewrite;

import io.netty.handler.codec.http.HttpRequest;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;

/**
 * A route's {@code prefix-rewrite}: the matched prefix is replaced towards the upstream, the rest of the
 * path and the query kept ({@link RouteConfig#upstreamUri}). The path was already checked by the front
 * end (no dot segments, no encoded separators), so the rewritten one cannot climb out of its prefix.
 */
public final class PathRewrite implements ExchangeFilter {
    public static final PathRewrite INSTANCE = new PathRewrite();

    @Override
    public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
        RouteConfig route = rc.route();
        if (route != null && route.prefixRewrite() != null) {
            upstream.setUri(route.upstreamUri(upstream.uri()));
        }
    }
}
