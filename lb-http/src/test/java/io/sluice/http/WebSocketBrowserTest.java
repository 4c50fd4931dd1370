package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.observe.Exchange;
import io.sluice.http.sdk.NodeSdk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real browser's WebSocket over HTTP/2: headless Chromium loads a page from Sluice's TLS listener
 * (ALPN h2), then opens {@code wss://} to the same origin, which it sends as an RFC 8441 extended
 * CONNECT on the page's connection because Sluice offers it; the tunnel reaches an HTTP/1.1
 * WebSocket backend and text, binary and the close code go both ways.
 */
class WebSocketBrowserTest {
    static final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .observer(exchanges::add)
            .files(dir -> Files.writeString(Files.createDirectories(dir.resolve("public")).resolve("index.html"),
                    "<!doctype html><title>ws</title><p>websocket page</p>"))
            .yaml("""
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        tls: { self-signed: true }
                        routes:
                          - { path: /ws/, pool: echo }
                          - { path: /, static: "${DIR}/public" }
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${WS}" } ]
                    """)
            .build();

    private static String chromium;

    @BeforeAll
    static void tools() {
        NodeSdk.assumeAvailable();
        chromium = DashboardBrowserTest.chromium();
    }

    @Test
    void chromiumOpensItsWebSocketOnThePagesHttp2Connection() throws Exception {
        NodeSdk.Result r = NodeSdk.run("browser-websocket.mjs",
                Map.of("BASE_URL", "https://127.0.0.1:" + sluice.port(), "CHROMIUM", chromium), Duration.ofSeconds(25));
        assertTrue(r.ok(), r.toString());
        JsonNode out = r.json();
        assertEquals("h2", out.path("page_protocol").asText(), out.toString());
        assertEquals("hello from chromium", out.path("text").asText(), out.toString());
        assertEquals("[7,8,9]", out.path("binary").toString());
        assertEquals(4003, out.path("close_code").asInt(), "the backend echoes the client's close code: " + out);
        Await.until("the tunnel's exchange ended", Duration.ofSeconds(10),
                () -> exchanges.stream().anyMatch(e -> e.path.equals("/ws/browser")));
        Exchange e = exchanges.stream().filter(x -> x.path.equals("/ws/browser")).findFirst().orElseThrow();
        assertEquals("HTTP/2", e.protocol, "Chromium used RFC 8441, not a second HTTP/1.1 connection");
        assertEquals(101, e.status);
        Await.until("lease released", Duration.ofSeconds(10), () -> sluice.totalInFlight() == 0);
    }
}
