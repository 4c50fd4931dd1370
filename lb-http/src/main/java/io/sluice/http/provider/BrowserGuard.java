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
final class BrowserGuard {
    private BrowserGuard() {
    }

    static FullHttpResponse check(RequestContext rc, ClientFormat client) {
        String origin = rc.request().headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || Boolean.TRUE.equals(rc.get(AccessFilters.ORIGIN_ALLOWED)) || sameSafeOrigin(origin,
                rc.request().headers().get(HttpHeaderNames.HOST))) {
            return null;
        }
        return ProviderGateway.error(rc, client, HttpResponseStatus.FORBIDDEN, "origin_not_allowed",
                "origin " + origin + " may not use this route (list it in the listener's cors.origins)", null);
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
