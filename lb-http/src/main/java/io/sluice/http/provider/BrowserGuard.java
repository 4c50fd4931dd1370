package io.sluice.http.provider;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.NetUtil;
import io.sluice.core.exchange.RequestContext;
import io.sluice.http.access.AccessFilters;
import io.sluice.http.provider.ChatRelay.ClientFormat;
import java.net.URI;
import java.util.Locale;

/**
 * Provider routes spend server-side keys, so a web page must not be able to make a visitor's browser
 * call them (CSRF with a "simple" cross-origin POST, or DNS rebinding onto a gateway on loopback). A
 * request with an {@code Origin} is served only when the listener's {@code cors.origins} allow it, or
 * when it is same-origin on a host that cannot be rebound: an IP literal or {@code localhost}.
 * Requests without {@code Origin} (SDKs, curl, servers) are not browsers' and pass.
 */
public final class BrowserGuard {
    private BrowserGuard() {
    }

    static FullHttpResponse check(RequestContext rc, ClientFormat client) {
        if (allowed(rc)) {
            return null;
        }
        String origin = rc.request().headers().get(HttpHeaderNames.ORIGIN);
        return ProviderGateway.error(rc, client, HttpResponseStatus.FORBIDDEN, "origin_not_allowed",
                "origin " + origin + " may not use this route (list it in the listener's cors.origins)", null);
    }

    /**
     * True when the request may be served to a browser: no {@code Origin} (not a browser's), an origin the
     * listener's {@code cors.origins} allow, or the same origin on an IP literal or {@code localhost}. Also
     * used by the built-in services ({@code io.sluice.http.services}).
     */
    public static boolean allowed(RequestContext rc) {
        String origin = rc.request().headers().get(HttpHeaderNames.ORIGIN);
        return origin == null || Boolean.TRUE.equals(rc.get(AccessFilters.ORIGIN_ALLOWED)) || sameSafeOrigin(origin,
                rc.request().headers().get(HttpHeaderNames.HOST));
    }

    private static boolean sameSafeOrigin(String origin, String host) {
        if (host == null) {
            return false;
        }
        URI u;
        try {
            u = new URI(origin);
        } catch (Exception e) {
            return false;
        }
        if (u.getHost() == null) {
            return false;
        }
        String authority = u.getRawAuthority().toLowerCase(Locale.ROOT);
        String given = host.toLowerCase(Locale.ROOT);
        boolean defaultPort = u.getPort() < 0;
        boolean same = authority.equals(given) || defaultPort && (given.equals(authority + ":80") || given.equals(authority + ":443"));
        String name = u.getHost().replaceAll("^\\[|\\]$", "");
        return same && (name.equals("localhost") || NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name));
    }
}
