package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.observe.Exchange;
import io.sluice.http.pool.BackendConnections;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The data path: streams pass through chunk by chunk, unchanged, over reused upstream connections. */
class StreamingProxyTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int ITL_MS = 30;

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes:
                  - { path: /v1/, pool: vllm }
                  - { path: /api/, admin: true }
            pools:
              vllm:
                backends:
                  - url: http://127.0.0.1:${SIM0}
                  - url: http://127.0.0.1:${SIM1}
            """,
            sim(), sim());

    static SimulatorOptions sim() {
        return SimulatorOptions.builder().model("demo")
                .ttft(Duration.ofMillis(20)).itl(Duration.ofMillis(ITL_MS)).build();
    }

    @Test
    void tokensReachTheClientAsTheyAreProduced() throws Exception {
        int tokens = 30;
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, tokens));
            RawHttp.Head head = c.readHead();
            assertEquals(200, head.status());
            assertTrue(head.header("content-type").startsWith("text/event-stream"), head.headers().toString());
            RawHttp.Body body = c.readBody(head);
            assertTrue(body.complete());
            // role chunk + one per token + [DONE]; the finish reason rides on the last token's chunk
            List<String> events = body.events();
            assertEquals("[DONE]", events.get(events.size() - 1));
            // A buffering proxy would deliver everything at once. The simulator cannot produce the
            // tokens faster than one per ITL, so a spread of at least half that is proof of streaming.
            long spreadMs = (body.chunks().get(body.chunks().size() - 1).nanos() - body.chunks().get(0).nanos()) / 1_000_000;
            assertTrue(spreadMs >= (tokens - 1) * ITL_MS / 2, "all chunks arrived within " + spreadMs + " ms");
            for (RawHttp.Chunk chunk : body.chunks()) {
                assertTrue(chunk.text().split("data: ", -1).length <= 2, "two events glued in one chunk: " + chunk.text());
            }
        }
    }

    @Test
    void streamIsWhatVllmSentDirectly() throws Exception {
        List<JsonNode> viaSluice = streamEvents(sluice.port());
        List<JsonNode> direct = streamEvents(sluice.sim(0).port());
        assertEquals(direct.size(), viaSluice.size());
        for (int i = 0; i < direct.size(); i++) {
            assertEquals(stripIds(direct.get(i)), stripIds(viaSluice.get(i)), "event " + i);
        }
    }

    private static List<JsonNode> streamEvents(int port) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.post("/v1/chat/completions", "{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                    + "\"stream\":true,\"max_tokens\":5,\"stream_options\":{\"include_usage\":true}}");
            List<JsonNode> out = new ArrayList<>();
            for (String e : c.exchange().body().events()) {
                out.add(e.equals("[DONE]") ? JSON.getNodeFactory().textNode(e) : JSON.readTree(e));
            }
            return out;
        }
    }

    private static JsonNode stripIds(JsonNode n) {
        if (n instanceof ObjectNode) {
            ObjectNode o = ((ObjectNode) n).deepCopy();
            o.remove("id");
            o.remove("created");
            return o;
        }
        return n;
    }

    @Test
    void vllmErrorsPassThroughUnchangedAndGatewayErrorsAreMarked() throws Exception {
        String direct;
        try (RawHttp c = new RawHttp(sluice.sim(0).port())) {
            direct = c.post("/v1/chat/completions", RawHttp.chatBody("nope", false, 3)).exchange().body().text();
        }
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("nope", false, 3)).exchange();
            assertEquals(404, r.status());
            assertEquals(direct, r.body().text());
            assertNull(r.header("x-sluice-error"), "vLLM's own 404 must not look like the gateway's");

            RawHttp.Response g = c.get("/nowhere").exchange();
            assertEquals(404, g.status());
            assertEquals("route_not_found", g.header("x-sluice-error"));
            JsonNode err = JSON.readTree(g.body().text()).get("error");
            assertNotNull(err.get("message"));
            assertEquals("not_found_error", err.get("type").asText());
            assertEquals("route_not_found", err.get("code").asText());
            assertNotNull(g.header("x-request-id"));
            // a gateway error keeps the connection usable
            assertEquals(200, c.get("/v1/models").exchange().status());
        }
    }

    @Test
    void keepAliveAndPipelinedRequestsAnswerInOrder() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            String slow = "{\"model\":\"demo\",\"prompt\":\"once upon a time\",\"max_tokens\":8}";
            // Two pipelined requests in one write: a slow completion, then a quick model list.
            c.sendRaw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + slow.length() + "\r\n\r\n" + slow
                    + "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n");
            RawHttp.Response first = c.exchange();
            RawHttp.Response second = c.exchange();
            assertEquals(200, first.status());
            assertTrue(first.body().text().contains("text_completion"), first.body().text());
            assertEquals(200, second.status());
            assertTrue(second.body().text().contains("\"object\":\"list\""), second.body().text());
            assertEquals("second", second.header("x-request-id"));
            assertNotNull(first.header("x-request-id"));
            assertFalse(first.header("x-request-id").equals("second"));
            // and the connection is still good for more
            assertEquals(200, c.get("/v1/models").exchange().status());
        }
    }

    @Test
    void upstreamConnectionsAreReused() throws Exception {
        long before = openedTotal();
        for (int i = 0; i < 40; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) { // a new client connection each time
                assertEquals(200, c.get("/v1/models").exchange().status());
            }
        }
        long opened = openedTotal() - before;
        // At most one per (event loop, backend) pair: 2 loops x 2 backends here; 40 without reuse.
        assertTrue(opened <= 4, "opened " + opened + " upstream connections for 40 requests");
    }

    private static long openedTotal() {
        long n = 0;
        for (var pool : sluice.server().pools()) {
            for (var b : pool.backends()) {
                BackendConnections c = sluice.server().upstreams().connections(b);
                n += c.connectionsOpened();
            }
        }
        return n;
    }

    @Test
    void everyExchangeIsReportedOnceWithWhatHappened() throws Exception {
        java.util.concurrent.BlockingQueue<Exchange> seen = new java.util.concurrent.LinkedBlockingQueue<>();
        sluice.server().addObserver(e -> {
            if (e.requestId != null && e.requestId.startsWith("obs-")) {
                seen.add(e);
            }
        });
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3), "X-Request-Id: obs-1").exchange();
            c.get("/elsewhere", "X-Request-Id: obs-2").exchange();
        }
        Exchange ok = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("obs-1", ok.requestId);
        assertEquals(200, ok.status);
        assertEquals(Exchange.Outcome.COMPLETED, ok.outcome);
        assertEquals("vllm", ok.pool);
        assertEquals("/v1/chat/completions", ok.path);
        assertNotNull(ok.backend);
        assertTrue(ok.bytesIn > 0 && ok.bytesOut > 0, ok.bytesIn + "/" + ok.bytesOut);
        assertTrue(ok.ttfbMicros() > 0 && ok.durationMicros() >= ok.ttfbMicros());
        assertEquals("127.0.0.1", ok.clientIp);

        Exchange notFound = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("obs-2", notFound.requestId);
        assertEquals(404, notFound.status);
        assertEquals("route_not_found", notFound.gatewayError);

        RawHttp c = new RawHttp(sluice.port());
        c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 500), "X-Request-Id: obs-3");
        c.readHead();
        c.readChunk();
        c.close();
        Exchange aborted = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("obs-3", aborted.requestId);
        assertEquals(Exchange.Outcome.CLIENT_ABORTED, aborted.outcome);
        assertNull(seen.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS), "reported more than once");
    }

    @Test
    void adminReportsHealthAndStatus() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response h = c.get("/api/health").exchange();
            assertEquals(200, h.status());
            JsonNode health = JSON.readTree(h.body().text());
            assertEquals("up", health.get("status").asText());
            assertEquals(2, health.get("healthy_backends").asInt());

            RawHttp.Response s = c.get("/api/v1/status").exchange();
            assertEquals(200, s.status());
            JsonNode status = JSON.readTree(s.body().text());
            JsonNode pool = status.get("pools").get(0);
            assertEquals("vllm", pool.get("name").asText());
            assertEquals(2, pool.get("backends").size());
            assertEquals("healthy", pool.get("backends").get(0).get("state").asText());
            assertTrue(pool.get("backends").get(0).has("in_flight"));
            assertEquals(sluice.port(), status.get("listeners").get(0).get("port").asInt());

            RawHttp.Response unknown = c.get("/api/v1/nothing").exchange();
            assertEquals(404, unknown.status());
            assertEquals("admin_route_not_found", unknown.header("x-sluice-error"));
        }
    }
}
