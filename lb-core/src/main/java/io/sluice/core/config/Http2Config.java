package io.sluice.core.config;

/**
 * HTTP/2 towards clients: over TLS when ALPN picks {@code h2}, and as h2c with prior knowledge on
 * plain listeners. The limits bound what one connection can make the gateway hold.
 *
 * @param initialWindowSize per-stream receive window (request bodies); responses follow the client's window
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams, int initialWindowSize, long maxHeaderListSize) {
    public static final Http2Config DEFAULT = new Http2Config(true, 128, 64 * 1024, 16 * 1024);
}
