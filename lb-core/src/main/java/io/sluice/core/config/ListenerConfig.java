package io.sluice.core.config;

import io.sluice.core.net.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A socket the gateway accepts client connections on, and how its requests are routed.
 *
 * @param host           a literal IP address or {@code localhost}: binding must not depend on DNS
 * @param port           0 binds an ephemeral port (tests)
 * @param idleTimeout    how long an idle client keep-alive connection is kept; zero disables the timeout
 * @param routes         in file order; {@link #route} picks the longest matching prefix, so order does not matter
 * @param tls            null for a plain listener
 * @param redirectToHttps the HTTPS port a plain listener redirects every request to (308), ACME challenges
 *                       excepted; 0 when it proxies instead
 * @param headerTimeout  time a client has to send a whole request head (slowloris), counted from its first
 *                       byte, and for a connection's first request from the connection's start; zero for none
 * @param bodyTimeout    longest wait between two reads of a request body (nginx's client_body_timeout),
 *                       not counting time Sluice itself paused reading; zero for none
 * @param maxRequestBody larger bodies are refused with 413
 * @param maxHeaders     more header fields are refused with 431
 * @param maxConnections concurrent client connections on this listener; zero for no limit
 * @param access         API keys, rate limits and CORS
 * @param trustedProxies peers whose {@code X-Forwarded-For} is believed; from any other peer the
 *                       forwarding headers are replaced, since Sluice is then the edge
 */
public record ListenerConfig(String name, String host, int port, long maxHeaderSize, long maxInitialLine,
                             Duration idleTimeout, List<RouteConfig> routes, TlsConfig tls, Http2Config http2,
                             int redirectToHttps, Duration headerTimeout, Duration bodyTimeout, long maxRequestBody,
                             int maxHeaders, int maxConnections, AccessConfig access, List<Cidr> trustedProxies) {
    public ListenerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(http2, "http2");
        Objects.requireNonNull(access, "access");
        routes = List.copyOf(routes);
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** A plain listener with default HTTP/2 (h2c prior knowledge) settings and default limits. */
    public ListenerConfig(String name, String host, int port, long maxHeaderSize, long maxInitialLine,
                          Duration idleTimeout, List<RouteConfig> routes) {
        this(name, host, port, maxHeaderSize, maxInitialLine, idleTimeout, routes, null, Http2Config.DEFAULT, 0);
    }

    /** With TLS and HTTP/2 settings, limits at their defaults. */
    public ListenerConfig(String name, String host, int port, long maxHeaderSize, long maxInitialLine,
                          Duration idleTimeout, List<RouteConfig> routes, TlsConfig tls, Http2Config http2,
                          int redirectToHttps) {
        this(name, host, port, maxHeaderSize, maxInitialLine, idleTimeout, routes, tls, http2, redirectToHttps,
                Duration.ofSeconds(10), Duration.ofSeconds(60), 32L * 1024 * 1024, 100, 0, AccessConfig.NONE, List.of());
    }

    /** The route with the longest prefix matching {@code path} (without query string), or null for none; allocation-free for the request path. */
    public RouteConfig route(String path) {
        RouteConfig best = null;
        for (RouteConfig r : routes) {
            if (r.matches(path) && (best == null || r.pathPrefix().length() > best.pathPrefix().length())) {
                best = r;
            }
        }
        return best;
    }
}
