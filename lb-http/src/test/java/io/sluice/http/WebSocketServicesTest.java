package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The built-in WebSocket services, {@code signaling} and {@code agent-bridge}, with real WebSocket clients. */
class WebSocketServicesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    services:
                      signaling: { max-peers-per-room: 2, max-message: 1KiB }
                      agent-bridge: { max-agents: 3 }
                    listeners:
                      - host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /signaling, service: signaling }
                          - { path: /agent-bridge, service: agent-bridge }
                          - { path: /api/agent-bridge/, service: agent-bridge }
                    """)
            .build();

    static JsonNode next(WsClient c) throws Exception {
        Object o = c.next();
        assertTrue(o instanceof String, "a text frame, got " + o);
        return JSON.readTree((String) o);
    }

    @Test
    void twoPeersExchangeOfferAnswerAndIceInARoom() throws Exception {
        try (WsClient a = WsClient.open(sluice.port(), "/signaling"); WsClient b = WsClient.open(sluice.port(), "/signaling")) {
            a.text("{\"type\":\"join\",\"room\":\"r1\",\"peer\":\"alice\"}");
            JsonNode peers = next(a);
            assertEquals("peers", peers.path("type").asText());
            assertEquals(0, peers.path("peers").size());
            b.text("{\"type\":\"join\",\"room\":\"r1\",\"peer\":\"bob\"}");
            assertEquals("[\"alice\"]", next(b).path("peers").toString());
            JsonNode joined = next(a);
            assertEquals("peer-joined", joined.path("type").asText());
            assertEquals("bob", joined.path("peer").asText());

            a.text("{\"type\":\"offer\",\"room\":\"r1\",\"to\":\"bob\",\"sdp\":\"v=0 offer\"}");
            JsonNode offer = next(b);
            assertEquals("offer", offer.path("type").asText());
            assertEquals("alice", offer.path("from").asText(), "the relay says who sent it");
            assertEquals("v=0 offer", offer.path("sdp").asText());
            b.text("{\"type\":\"answer\",\"room\":\"r1\",\"to\":\"alice\",\"sdp\":\"v=0 answer\",\"from\":\"mallory\"}");
            JsonNode answer = next(a);
            assertEquals("answer", answer.path("type").asText());
            assertEquals("bob", answer.path("from").asText(), "a claimed sender is replaced");
            a.text("{\"type\":\"ice\",\"room\":\"r1\",\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 9 typ host\"}");
            JsonNode ice = next(b);
            assertEquals("ice", ice.path("type").asText());
            assertEquals("alice", ice.path("from").asText());

            a.text("{\"type\":\"offer\",\"room\":\"r1\",\"to\":\"nobody\"}");
            JsonNode err = next(a);
            assertEquals("error", err.path("type").asText());
            assertTrue(err.path("message").asText().contains("nobody"), err.toString());

            try (WsClient c = WsClient.open(sluice.port(), "/signaling")) {
                c.text("{\"type\":\"join\",\"room\":\"r1\",\"peer\":\"carol\"}");
                JsonNode full = next(c);
                assertEquals("error", full.path("type").asText());
                assertTrue(full.path("message").asText().contains("full"), full.toString());
                c.text("{\"type\":\"offer\",\"room\":\"r1\",\"sdp\":\"x\"}");
                assertTrue(next(c).path("message").asText().contains("join room r1 first"));
            }
            b.close();
            JsonNode left = next(a);
            assertEquals("peer-left", left.path("type").asText());
            assertEquals("bob", left.path("peer").asText());
        }
    }

    @Test
    void aSignalingMessageOverTheLimitClosesWith1009() throws Exception {
        try (WsClient a = WsClient.open(sluice.port(), "/signaling")) {
            a.text("{\"type\":\"signal\",\"room\":\"r\",\"x\":\"" + "y".repeat(2000) + "\"}");
            assertEquals(new WsClient.Close(1009), a.next());
            assertTrue(a.closedWithin(10));
        }
    }

    @Test
    void agentsRegisterBroadcastAndSendDirectly() throws Exception {
        try (WsClient x = WsClient.open(sluice.port(), "/agent-bridge"); WsClient y = WsClient.open(sluice.port(), "/agent-bridge")) {
            x.text("{\"type\":\"broadcast\",\"data\":1}");
            assertTrue(next(x).path("message").asText().contains("register first"));
            long relayedBefore = stats().path("messagesRelayed").asLong();
            x.text("{\"type\":\"register\",\"agent\":\"planner\",\"capabilities\":[\"plan\"]}");
            JsonNode reg = next(x);
            assertEquals("registered", reg.path("type").asText());
            assertEquals(0, reg.path("agents").size());
            y.text("{\"type\":\"register\",\"agent\":\"coder\"}");
            JsonNode regY = next(y);
            assertEquals("planner", regY.path("agents").get(0).path("agent").asText());
            assertEquals("[\"plan\"]", regY.path("agents").get(0).path("capabilities").toString());
            assertEquals("agent-joined", next(x).path("type").asText());

            x.text("{\"type\":\"broadcast\",\"data\":{\"task\":\"write tests\"}}");
            JsonNode b = next(y);
            assertEquals("broadcast", b.path("type").asText());
            assertEquals("planner", b.path("from").asText());
            assertEquals("write tests", b.path("data").path("task").asText());
            y.text("{\"type\":\"send\",\"to\":\"planner\",\"data\":\"done\"}");
            JsonNode m = next(x);
            assertEquals("message", m.path("type").asText());
            assertEquals("coder", m.path("from").asText());
            assertEquals("done", m.path("data").asText());
            y.text("{\"type\":\"join\",\"room\":\"team\"}");
            assertEquals("joined", next(y).path("type").asText());

            try (WsClient z = WsClient.open(sluice.port(), "/agent-bridge")) {
                z.text("{\"type\":\"register\",\"agent\":\"coder\"}");
                assertTrue(next(z).path("message").asText().contains("already registered"));
            }
            HttpResponse<String> stats = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    sluice.uri("/api/agent-bridge/stats")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, stats.statusCode());
            JsonNode st = JSON.readTree(stats.body());
            assertEquals(2, st.path("agents").asInt());
            assertEquals(1, st.path("rooms").asInt());
            assertEquals(relayedBefore + 2, st.path("messagesRelayed").asLong(), "one broadcast to one agent, one direct message");
            y.close();
            JsonNode left = next(x);
            assertEquals("agent-left", left.path("type").asText());
            assertEquals("coder", left.path("agent").asText());
        }
    }

    @Test
    void aStalledAgentIsDroppedInsteadOfQueueingWithoutBound() throws Exception {
        try (WsClient sender = WsClient.open(sluice.port(), "/agent-bridge");
             WsClient stalled = WsClient.open(sluice.port(), "/agent-bridge")) {
            sender.text("{\"type\":\"register\",\"agent\":\"fast\"}");
            assertEquals("registered", next(sender).path("type").asText());
            stalled.text("{\"type\":\"register\",\"agent\":\"slow\"}");
            assertEquals("registered", next(stalled).path("type").asText());
            assertEquals("agent-joined", next(sender).path("type").asText());
            stalled.ch.config().setAutoRead(false); // a browser tab that stopped reading
            String big = "{\"type\":\"broadcast\",\"data\":\"" + "z".repeat(60_000) + "\"}";
            // Kernel buffers take a few MiB, the gateway's bound 4 MiB more; then the stalled agent is dropped.
            for (int i = 0; i < 2000 && stats().path("agents").asInt() == 2; i++) {
                sender.text(big);
            }
            Await.until("the stalled agent was dropped", Duration.ofSeconds(10), () -> {
                try {
                    return stats().path("agents").asInt() == 1;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            JsonNode left = next(sender);
            assertEquals("agent-left", left.path("type").asText());
            assertEquals("slow", left.path("agent").asText());
            sender.text("{\"type\":\"send\",\"to\":\"slow\",\"data\":1}");
            assertTrue(next(sender).path("message").asText().contains("no agent slow"));
        }
    }

    static JsonNode stats() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                sluice.uri("/api/agent-bridge/stats")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    @Test
    void aPlainRequestToAServiceGets426() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(sluice.uri("/signaling"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(426, r.statusCode());
        assertTrue(r.body().contains("upgrade_required"), r.body());
    }
}
