package io.sluice.http.rewrite;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.sluice.core.config.HeaderRule;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import java.util.List;
import java.util.function.Function;

/**
 * The {@code headers:} rules of pools and routes (nginx {@code proxy_set_header}/{@code add_header},
 * HAProxy {@code set-header}, Caddy {@code header_up}/{@code header_down}): request headers towards the
 * upstream, response headers towards the client. The pool's rules apply first and the route's after
 * them, so the more specific one wins. Names that frame the message or are hop-by-hop were refused at
 * load time; the request rules run after Sluice's own forwarding headers, so they may replace those.
 * Response rules apply to every response of the route, Sluice's own errors included.
 */
public final class HeaderRulesFilter implements ExchangeFilter {
    private final Function<String, PoolConfig> pools;

    /** @param pools a pool's current settings by name (null when there is no such pool) */
    public HeaderRulesFilter(Function<String, PoolConfig> pools) {
        this.pools = pools;
    }

    @Override
    public void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
        PoolConfig pool = pool(rc);
        if (pool != null) {
            apply(pool.headers().request(), upstream.headers());
        }
        RouteConfig route = rc.route();
        if (route != null) {
            apply(route.headers().request(), upstream.headers());
        }
    }

    @Override
    public void onResponseHead(RequestContext rc, HttpResponse response) {
        PoolConfig pool = pool(rc);
        if (pool != null) {
            apply(pool.headers().response(), response.headers());
        }
        RouteConfig route = rc.route();
        if (route != null) {
            apply(route.headers().response(), response.headers());
        }
    }

    private PoolConfig pool(RequestContext rc) {
        String name = rc.pool();
        return name == null ? null : pools.apply(name);
    }

    /** Removes, then sets, then adds: the order the rules were validated in. */
    static void apply(List<HeaderRule> rules, HttpHeaders h) {
        if (rules.isEmpty()) {
            return;
        }
        for (HeaderRule r : rules) {
            if (r.op() == HeaderRule.Op.REMOVE) {
                h.remove(r.name());
            }
        }
        for (HeaderRule r : rules) {
            if (r.op() == HeaderRule.Op.SET) {
                h.set(r.name(), r.value());
            }
        }
        for (HeaderRule r : rules) {
            if (r.op() == HeaderRule.Op.ADD) {
                h.add(r.name(), r.value());
            }
        }
    }
}
