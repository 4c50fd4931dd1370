package io.sluice.core.config;

/**
 * HTTP/2 towards clients: over TLS when ALPN picks {@code h2}, and as h2c with prior knowledge on
 * plain listeners. The limits bound what one connection can make the gateway hold.
 *
 * @param initialWindowSize per-stream receive window (request bodies); responses follow the client's window
 * @param maxUpstreamPerConnection streams of one client connection that may hold an upstream connection at
 *                          once (each proxied stream has its own); more get 503 {@code stream_limit}
 * @param maxUpstreamTotal  the same over all HTTP/2 connections of the listener
 * @param webSockets        WebSockets over HTTP/2 (RFC 8441): SETTINGS_ENABLE_CONNECT_PROTOCOL is offered and an
 *                          extended CONNECT with {@code :protocol websocket} is served like an HTTP/1.1 upgrade
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams, int initialWindowSize, long maxHeaderListSize,
                          int maxUpstreamPerConnection, int maxUpstreamTotal, boolean webSockets) {
    public static final Http2Config DEFAULT = new Http2Config(true, 128, 64 * 1024, 16 * 1024, 128, 4096, true);

    public Http2Config(boolean enabled, int maxConcurrentStreams, int initialWindowSize, long maxHeaderListSize) {
        this(enabled, maxConcurrentStreams, initialWindowSize, maxHeaderListSize, DEFAULT_PER_CONNECTION, DEFAULT_TOTAL, true);
    }

    private static final int DEFAULT_PER_CONNECTION = 128;
    private static final int DEFAULT_TOTAL = 4096;
}
