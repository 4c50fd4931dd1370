package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Draining for shutdown closes open WebSocket tunnels (both sides) instead of waiting out the grace period. */
class WebSocketShutdownTest {
    @RegisterExtension
    final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .perMethod()
            .yaml("""
                    server: { shutdown-grace: 30s }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes: [ { path: /ws/, pool: echo } ]
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                    """)
            .build();

    @Test
    void drainingClosesTunnels() throws Exception {
        WsBackend backend = sluice.backend("WS");
        try (WsClient c = WsClient.open(sluice.port(), "/ws/x")) {
            c.text("hi");
            assertEquals("hi", c.next());
            long start = System.nanoTime();
            sluice.drainAndClose();
            assertTrue(c.closedWithin(10), "the client side closed");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(20).toNanos(), "not after the 30 s grace");
            Await.until("the backend side closed", Duration.ofSeconds(10), () -> backend.closed.get() == backend.open.get());
        }
    }
}
