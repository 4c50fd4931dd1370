package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** wss:// on a TLS listener (with HSTS, whose handler leaves too): the tunnel runs inside TLS. */
class WebSocketTlsTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .yaml("""
                    services:
                      signaling: {}
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        tls: { self-signed: true, hsts: 1d }
                        routes:
                          - { path: /ws/, pool: echo }
                          - { path: /signaling, service: signaling }
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                    """)
            .build();

    @Test
    void theTunnelAndTheServicesWorkOverTls() throws Exception {
        try (WsClient c = WsClient.openTls(sluice.port(), "/ws/tls")) {
            c.text("over tls");
            assertEquals("over tls", c.next());
            byte[] big = new byte[300_000];
            new java.util.Random(2).nextBytes(big);
            c.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(big)));
            assertArrayEquals(big, (byte[]) c.next());
            c.send(new CloseWebSocketFrame(1000, ""));
            assertEquals(new WsClient.Close(1000), c.next());
            assertTrue(c.closedWithin(10));
        }
        Await.until("lease released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);
        try (WsClient s = WsClient.openTls(sluice.port(), "/signaling")) {
            s.text("{\"type\":\"join\",\"room\":\"t\",\"peer\":\"p\"}");
            assertTrue(((String) s.next()).contains("\"peers\":[]"));
        }
    }
}
