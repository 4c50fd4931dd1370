package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Backends added, drained, enabled and removed at runtime through {@code /api/v1/backends}. */
class AdminBackendsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 2 }
                backends:
                  - { url: "http://127.0.0.1:${SIM0}", name: a }
            """, sim(Duration.ofMillis(5)), sim(Duration.ofMillis(5)), sim(Duration.ofMillis(150)));

    static SimulatorOptions sim(Duration itl) {
        return SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(5)).itl(itl).maxTokens(16).build();
    }

    static RawHttp.Response call(int port, String method, String path, String json, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            if (json != null) {
                c.sendRaw(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n"
                        + String.join("", java.util.Arrays.stream(headers).map(h -> h + "\r\n").toList()) + "\r\n" + json);
            } else {
                c.sendRaw(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                        + String.join("", java.util.Arrays.stream(headers).map(h -> h + "\r\n").toList()) + "\r\n");
            }
            return c.exchange();
        }
    }

    static JsonNode json(RawHttp.Response r) throws Exception {
        return JSON.readTree(r.body().text());
    }

    private static BackendPool pool() {
        return sluice.server().upstreams().pool("vllm");
    }

    private static Backend backend(String id) {
        return pool().backends().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
    }

    private static void add(String name, int sim) throws Exception {
        RawHttp.Response r = call(sluice.port(), "POST", "/api/v1/backends",
                "{\"pool\":\"vllm\",\"url\":\"http://127.0.0.1:" + sluice.sim(sim).port() + "\",\"name\":\"" + name + "\"}");
        assertEquals(201, r.status(), r.body().text());
        assertEquals(name, json(r).get("id").asText());
        Await.until(name + " passes its health check", Duration.ofSeconds(20), () -> backend(name).isAvailable());
    }

    @Test
    void backendAddedAtRuntimeTakesTrafficAndDrainEnableSteerIt() throws Exception {
        add("b", 1);
        RawHttp.Response dup = call(sluice.port(), "POST", "/api/v1/backends",
                "{\"pool\":\"vllm\",\"url\":\"http://127.0.0.1:" + sluice.sim(1).port() + "\"}");
        assertEquals(409, dup.status());
        assertEquals("backend_exists", dup.header("x-sluice-error"));

        RawHttp.Response drained = call(sluice.port(), "POST", "/api/v1/backends/a/drain", null);
        assertEquals(200, drained.status(), drained.body().text());
        assertTrue(json(drained).get("draining").asBoolean());
        long before = sluice.sim(1).requestsTotal();
        for (int i = 0; i < 3; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 4)).exchange().status());
            }
        }
        assertEquals(before + 3, sluice.sim(1).requestsTotal(), "with a drained, every request goes to the added backend");
        assertEquals(200, call(sluice.port(), "POST", "/api/v1/backends/a/enable", null).status());
        assertTrue(backend("a").isAvailable());

        JsonNode list = json(call(sluice.port(), "GET", "/api/v1/backends", null));
        assertEquals(2, list.get("backends").size());

        RawHttp.Response removed = call(sluice.port(), "DELETE", "/api/v1/backends/b", null);
        assertEquals(200, removed.status(), removed.body().text());
        assertTrue(json(removed).get("drained").asBoolean());
        assertEquals(null, backend("b"));
        assertEquals(404, call(sluice.port(), "DELETE", "/api/v1/backends/b", null).status());
        assertEquals(400, call(sluice.port(), "POST", "/api/v1/backends", "{\"pool\":\"vllm\"}").status());
        assertEquals(404, call(sluice.port(), "POST", "/api/v1/backends",
                "{\"pool\":\"nope\",\"url\":\"http://127.0.0.1:1\"}").status());
    }

    @Test
    void removalWaitsForTheOpenStreamWhichFinishes() throws Exception {
        add("slow", 2);
        call(sluice.port(), "POST", "/api/v1/backends/a/drain", null);
        try (RawHttp stream = new RawHttp(sluice.port()); RawHttp admin = new RawHttp(sluice.port())) {
            stream.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 16));
            RawHttp.Head head = stream.readHead();
            assertEquals(200, head.status());
            RawHttp.Chunk first = stream.readChunk();
            assertTrue(first.text().startsWith("data: "));
            call(sluice.port(), "POST", "/api/v1/backends/a/enable", null);
            assertEquals(1, backend("slow").inFlight());

            admin.sendRaw("DELETE /api/v1/backends/slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Await.until("slow is draining", Duration.ofSeconds(10), () -> backend("slow").isDraining());
            assertTrue(pool().backends().contains(backend("slow")), "kept while its stream runs");

            StringBuilder rest = new StringBuilder(first.text());
            RawHttp.Chunk c;
            while ((c = stream.readChunk()) != null) {
                rest.append(c.text());
            }
            assertTrue(rest.toString().contains("data: [DONE]"), "the stream ran to its end");

            RawHttp.Response removed = admin.exchange();
            assertEquals(200, removed.status(), removed.body().text());
            JsonNode body = json(removed);
            assertTrue(body.get("drained").asBoolean());
            assertEquals(0, body.get("in_flight_at_removal").asInt());
            assertFalse(pool().backends().stream().anyMatch(b -> b.id().equals("slow")));
        }
    }
}
