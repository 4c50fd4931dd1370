package io.sluice.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code pools.<name>.websocket}: the WebSocket tunnels to the pool's backends (issue 15).
 *
 * @param idleTimeout    a tunnel with no byte in either direction for this long is closed; zero for none
 * @param maxMessage     the largest message (sum of its frames' payloads) a client may send; a larger one closes with 1009
 * @param maxConnections tunnels open to the pool at once (across event loops); more get a 503; zero for no limit
 */
public record WebSocketConfig(Duration idleTimeout, long maxMessage, int maxConnections) {
    public static final WebSocketConfig DEFAULT = new WebSocketConfig(Duration.ofSeconds(60), 1L << 20, 4096);

    public WebSocketConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }
}
