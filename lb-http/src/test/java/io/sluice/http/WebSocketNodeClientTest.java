package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A second, independent client: Node's built-in WebSocket (undici, the browser API), through the
 * tunnel and the signaling service. Skipped where no Node with WebSocket support is installed.
 */
class WebSocketNodeClientTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("WS", WsBackend::new, WsBackend::port)
            .yaml("""
                    services:
                      signaling: {}
                    listeners:
                      - host: 127.0.0.1
                        port: 0
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
    void echoAndSignalingWithTheBrowserApiClient() throws Exception {
        Path script = Path.of("src/test/node/websocket-client.mjs").toAbsolutePath();
        assumeTrue(Files.exists(script), "no script at " + script);
        Process p;
        try {
            p = new ProcessBuilder("node", "--experimental-websocket", script.toString(), "ws://127.0.0.1:" + sluice.port())
                    .redirectErrorStream(false).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "no node: " + e.getMessage());
            return;
        }
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(!stderr.contains("WebSocket is not defined"), "this node has no WebSocket client");
        assertEquals(0, p.exitValue(), stderr);
        JsonNode out = new ObjectMapper().readTree(stdout);
        assertEquals("hello from node", out.path("text").asText());
        assertEquals("[1,2,3,250]", out.path("binary").toString());
        assertEquals(4002, out.path("closeCode").asInt(), "the backend echoed the client's close code");
        assertEquals("[\"a\"]", out.path("peers").toString());
        assertEquals("a", out.path("offer").path("from").asText());
        assertEquals("v=0", out.path("offer").path("sdp").asText());
        assertEquals("peer-left", out.path("left").path("type").asText());
    }
}
