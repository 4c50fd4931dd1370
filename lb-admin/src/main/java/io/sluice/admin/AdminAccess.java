package io.sluice.admin;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.sluice.core.config.AdminConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * Decides whether a request may use the admin API (see {@link AdminConfig}), from its head alone, so
 * a refused request is answered before any of its body is read. The config is swapped on reload, so
 * it is read once per request from a volatile field.
 *
 * <p>Loopback trust is the trust of a local process, not of a browser on the same machine. So,
 * whatever the credentials: a request a browser marks as cross-site ({@code Sec-Fetch-Site}, or an
 * {@code Origin} other than the request's own host) is refused, which stops a page the operator
 * visits from posting to {@code 127.0.0.1}; a state-changing request must carry its body as
 * {@code application/json}, which a page cannot send cross-site without a preflight (that Sluice never
 * grants on admin routes). And a loopback client without the token must name Sluice by a loopback
 * {@code Host} ({@code localhost}, a loopback address, or {@code admin.allowed-hosts}), so a page that
 * rebinds its own domain name to 127.0.0.1 cannot read the API either.
 *
 * <p>A browser signed in to the dashboard ({@link AdminSessions}) is let in by its session cookie,
 * under the same {@code Host} rule, and for a state-changing request only with the session's CSRF
 * token in {@code X-Sluice-CSRF}; the dashboard's sign-in form and static files need no credentials.
 */
public final class AdminAccess {
    private static final AsciiString SEC_FETCH_SITE = AsciiString.cached("sec-fetch-site");
    /** The header the dashboard sends its session's CSRF token in. */
    public static final AsciiString CSRF_HEADER = AsciiString.cached("x-sluice-csrf");
    private volatile AdminConfig config;
    private volatile AdminSessions sessions = AdminSessions.NONE;

    public AdminAccess(AdminConfig config) {
        this.config = config;
    }

    /** A reload's admin config; a changed token ends every browser session signed in with the old one. */
    public void update(AdminConfig config) {
        boolean tokenChanged = !config.token().equals(this.config.token());
        this.config = config;
        if (tokenChanged) {
            sessions.invalidateAll();
        }
    }

    /** The dashboard's sign-in sessions, which authorise the admin API too (see {@link #check}). */
    public AdminAccess sessions(AdminSessions sessions) {
        this.sessions = sessions;
        return this;
    }

    public AdminConfig config() {
        return config;
    }

    /** The token's constant-time check (both sides hashed first, so not even the length leaks); false without a token. */
    public boolean tokenMatches(String candidate) {
        AdminConfig c = config;
        if (!c.hasToken() || candidate == null) {
            return false;
        }
        return MessageDigest.isEqual(sha256(c.token()), sha256(candidate));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    void check(Channel channel, HttpMethod method, HttpHeaders headers) {
        check(channel, method, null, headers);
    }

    /**
     * Besides the bearer token and loopback: the dashboard's public paths (sign-in form, static files)
     * need no credentials, and a live session cookie authorises like the token, but only on an allowed
     * {@code Host} (loopback names and {@code admin.allowed-hosts}: a rebound name gets nothing) and, for
     * a state-changing request, only with the session's CSRF token in {@code X-Sluice-CSRF}.
     *
     * @param path the request path without the query, or null when not known (no dashboard paths then)
     * @throws AdminException 401, 403 or 415 when the request is not allowed; the reason never includes the token
     */
    void check(Channel channel, HttpMethod method, String path, HttpHeaders headers) {
        AdminConfig c = config;
        String site = headers.get(SEC_FETCH_SITE);
        if (site != null && !site.equalsIgnoreCase("same-origin") && !site.equalsIgnoreCase("none")) {
            throw new AdminException(HttpResponseStatus.FORBIDDEN, "cross_site_request",
                    "the admin API does not answer cross-site requests (Sec-Fetch-Site: " + site + ")");
        }
        String origin = headers.get(HttpHeaderNames.ORIGIN);
        if (origin != null && !sameOrigin(origin, headers.get(HttpHeaderNames.HOST))) {
            throw new AdminException(HttpResponseStatus.FORBIDDEN, "cross_site_request",
                    "the admin API does not answer cross-site requests (Origin: " + origin + ")");
        }
        if (changesState(method) && hasBody(headers) && !isJson(headers.get(HttpHeaderNames.CONTENT_TYPE))) {
            throw new AdminException(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    "admin request bodies must be sent as 'Content-Type: application/json'");
        }
        if (method.equals(HttpMethod.GET) && StatusEndpoints.READY.equals(path)) {
            return; // the readiness probe: no credentials, nothing to tell (see StatusEndpoints.READY)
        }
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (c.hasToken() && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                && MessageDigest.isEqual(c.token().getBytes(StandardCharsets.UTF_8),
                        auth.substring(7).trim().getBytes(StandardCharsets.UTF_8))) {
            return;
        }
        AdminSessions s = sessions;
        AdminException refusal = null;
        if (path != null && s.isPublic(method, path)) {
            requireAllowedHost(headers, c);
            return;
        }
        String csrf = s.csrfToken(headers);
        if (csrf != null) {
            requireAllowedHost(headers, c);
            String sent = headers.get(CSRF_HEADER);
            if (!changesState(method) || (sent != null && MessageDigest.isEqual(
                    csrf.getBytes(StandardCharsets.UTF_8), sent.trim().getBytes(StandardCharsets.UTF_8)))) {
                return;
            }
            refusal = new AdminException(HttpResponseStatus.FORBIDDEN, "csrf_token_missing",
                    "a state-changing request signed in by the session cookie needs the session's X-Sluice-CSRF header");
        }
        if (c.loopbackWithoutToken() && isLoopback(channel)) {
            if (!loopbackHost(headers.get(HttpHeaderNames.HOST), c)) {
                throw new AdminException(HttpResponseStatus.FORBIDDEN, "host_not_allowed",
                        "without the admin token, the admin API answers only to Host: localhost, a loopback "
                                + "address or a name in admin.allowed-hosts");
            }
            return;
        }
        if (refusal != null) {
            throw refusal;
        }
        throw new AdminException(HttpResponseStatus.UNAUTHORIZED, "unauthorized", c.hasToken()
                ? "the admin API needs 'Authorization: Bearer <admin token>'"
                : "the admin API is only open to loopback clients (configure admin.token for remote access)");
    }

    private static void requireAllowedHost(HttpHeaders headers, AdminConfig c) {
        if (!loopbackHost(headers.get(HttpHeaderNames.HOST), c)) {
            throw new AdminException(HttpResponseStatus.FORBIDDEN, "host_not_allowed",
                    "the dashboard and its sessions answer only to Host: localhost, a loopback address or a name "
                            + "in admin.allowed-hosts");
        }
    }

    private static boolean changesState(HttpMethod m) {
        return !m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD) && !m.equals(HttpMethod.OPTIONS);
    }

    /** A body, or a content type that says a browser form or a script's text is coming. */
    private static boolean hasBody(HttpHeaders h) {
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        return (length != null && !length.trim().equals("0")) || h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                || h.contains(HttpHeaderNames.CONTENT_TYPE);
    }

    private static boolean isJson(String type) {
        if (type == null) {
            return false;
        }
        int semi = type.indexOf(';');
        String t = (semi < 0 ? type : type.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return t.equals("application/json");
    }

    /** The Origin is the request's own scheme-less authority (a page served by this very listener). */
    private static boolean sameOrigin(String origin, String host) {
        if (host == null || origin.equals("null")) {
            return false;
        }
        try {
            URI u = new URI(origin);
            if (u.getHost() == null) {
                return false;
            }
            String authority = u.getRawAuthority().toLowerCase(Locale.ROOT);
            return authority.equals(host.trim().toLowerCase(Locale.ROOT));
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    static boolean loopbackHost(String host, AdminConfig c) {
        if (host == null) {
            return false;
        }
        String name = host.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            if (end < 0) {
                return false;
            }
            name = name.substring(1, end);
        } else {
            int colon = name.lastIndexOf(':');
            if (colon >= 0) {
                name = name.substring(0, colon);
            }
        }
        if (name.equals("localhost") || c.allowedHosts().contains(name)) {
            return true;
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(name);
        if (ip == null) {
            return false;
        }
        try {
            return java.net.InetAddress.getByAddress(ip).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static boolean isLoopback(Channel channel) {
        SocketAddress a = channel.remoteAddress();
        if (a == null && channel.parent() != null) {
            a = channel.parent().remoteAddress(); // an HTTP/2 stream: its connection's peer
        }
        return a instanceof InetSocketAddress isa && isa.getAddress() != null && isa.getAddress().isLoopbackAddress();
    }
}
