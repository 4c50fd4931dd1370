package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reload applies {@code services:} to the built-in WebSocket services: new limits hold for what
 * comes next, an enabled service starts serving, and a disabled one (its route gone) takes no new connections
 * while those already open run on; no restart.
 */
class WebSocketServicesReloadTest {
    private static String routes(String... services) {
        StringBuilder sb = new StringBuilder("listeners:\n  - host: 127.0.0.1\n    port: 0\n    routes:\n");
        for (String s : services) {
            sb.append("      - { path: /").append(s).append(", service: ").append(s).append(" }\n");
        }
        return sb.append("      - { path: /other, static: . }\n").toString();
    }

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("services:\n  agent-bridge: { max-agents: 3 }\n" + routes("agent-bridge"))
            .build();

    @Test
    void limitsAndEnablementFollowAReload() throws Exception {
        assertEquals(404, upgradeStatus("/signaling"), "signaling is off at start");
        try (WsClient a = WsClient.open(sluice.port(), "/agent-bridge");
             WsClient b = WsClient.open(sluice.port(), "/agent-bridge")) {
            a.text("{\"type\":\"register\",\"agent\":\"a\"}");
            assertEquals("registered", WebSocketServicesTest.next(a).path("type").asText());

            var result = sluice.reload("services:\n  agent-bridge: { max-agents: 1 }\n  signaling: { max-peers-per-room: 2 }\n"
                    + routes("agent-bridge", "signaling"));
            assertTrue(result.changes().contains("services: updated"), result.changes().toString());

            b.text("{\"type\":\"register\",\"agent\":\"b\"}");
            JsonNode full = WebSocketServicesTest.next(b);
            assertTrue(full.path("message").asText().contains("full (1 agents)"), "the new limit: " + full);

            try (WsClient s = WsClient.open(sluice.port(), "/signaling"); // enabled by the reload, with its limit
                 WsClient t = WsClient.open(sluice.port(), "/signaling");
                 WsClient u = WsClient.open(sluice.port(), "/signaling")) {
                s.text("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"p1\"}");
                assertEquals("peers", WebSocketServicesTest.next(s).path("type").asText());
                t.text("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"p2\"}");
                assertEquals("peers", WebSocketServicesTest.next(t).path("type").asText());
                u.text("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"p3\"}");
                JsonNode refused = WebSocketServicesTest.next(u);
                assertTrue(refused.path("message").asText().contains("full (2 peers)"), refused.toString());
            }

            sluice.reload("services:\n  signaling: {}\n" + routes("signaling")); // the agent bridge disabled
            assertEquals(404, upgradeStatus("/agent-bridge"), "no new connections to a disabled service");
            a.text("{\"type\":\"join\",\"room\":\"team\"}"); // the open one runs on
            assertEquals("joined", WebSocketServicesTest.next(a).path("type").asText());
        }
    }

    private static int upgradeStatus(String path) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.get(path, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                    "Sec-WebSocket-Version: 13").readHead().status();
        }
    }
}
