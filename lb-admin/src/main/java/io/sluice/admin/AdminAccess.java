package io.sluice.admin;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.config.AdminConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Decides whether a request may use the admin API (see {@link AdminConfig}). The config is swapped
 * on reload, so it is read once per request from a volatile field.
 */
public final class AdminAccess {
    private volatile AdminConfig config;

    public AdminAccess(AdminConfig config) {
        this.config = config;
    }

    public void update(AdminConfig config) {
        this.config = config;
    }

    /** @throws AdminException 401 when the request is not allowed; the reason never includes the token */
    void check(Channel channel, HttpHeaders headers) {
        AdminConfig c = config;
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (c.hasToken() && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                && MessageDigest.isEqual(c.token().getBytes(StandardCharsets.UTF_8),
                        auth.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
            return;
        }
        if (c.loopbackWithoutToken() && isLoopback(channel)) {
            return;
        }
        throw new AdminException(HttpResponseStatus.UNAUTHORIZED, "unauthorized", c.hasToken()
                ? "the admin API needs 'Authorization: Bearer <admin token>'"
                : "the admin API is only open to loopback clients (configure admin.token for remote access)");
    }

    static boolean isLoopback(Channel channel) {
        SocketAddress a = channel.remoteAddress();
        if (a == null && channel.parent() != null) {
            a = channel.parent().remoteAddress(); // an HTTP/2 stream: its connection's peer
        }
        return a instanceof InetSocketAddress isa && isa.getAddress() != null && isa.getAddress().isLoopbackAddress();
    }
}
