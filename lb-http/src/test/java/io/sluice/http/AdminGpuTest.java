package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.sim.SimulatorOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /api/gpu/status} with background vLLM scrapes, and {@code GET /v1/models} answered by Sluice. */
class AdminGpuTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                health: { interval: 100ms, timeout: 90ms }
                backends:
                  - { url: "http://127.0.0.1:${SIM0}", name: a }
                  - { url: "http://127.0.0.1:${SIM1}", name: b }
            admin: { scrape-interval: 100ms }
            """, SimulatorOptions.builder().model("model-a").build(), SimulatorOptions.builder().model("model-b").build());

    private static JsonNode gpuStatus() throws Exception {
        RawHttp.Response r = AdminBackendsTest.call(sluice.port(), "GET", "/api/gpu/status", null);
        assertEquals(200, r.status(), r.body().text());
        return AdminBackendsTest.json(r);
    }

    @Test
    void gpuStatusShowsEachBackendsVllmView() throws Exception {
        Await.until("both backends scraped", Duration.ofSeconds(20), () -> {
            try {
                JsonNode s = gpuStatus();
                return s.get("backends").size() == 2 && s.get("backends").get(0).get("scraped").asBoolean()
                        && s.get("backends").get(1).get("scraped").asBoolean();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        JsonNode s = gpuStatus();
        // This machine has no GPU tools (the fake nvidia-smi case is GpuProbeTest in lb-admin).
        if (System.getenv("PATH") != null && List.of(System.getenv("PATH").split(":")).stream()
                .noneMatch(d -> new java.io.File(d, "nvidia-smi").canExecute() || new java.io.File(d, "rocm-smi").canExecute())) {
            assertFalse(s.get("available").asBoolean());
            assertFalse(s.get("local").get("available").asBoolean());
        }
        JsonNode a = s.get("backends").get(0);
        assertEquals("a", a.get("id").asText());
        assertEquals("model-a", a.get("models").get(0).asText());
        assertTrue(a.get("kv_cache_usage").isNumber());
        assertEquals(0, a.get("requests_running").asInt());
    }

    @Test
    void modelsIsTheUnionOverAvailableBackends() throws Exception {
        Await.until("both backends scraped", Duration.ofSeconds(20), () -> models().size() == 2);
        assertEquals(List.of("model-a", "model-b"), models().stream().sorted().toList());

        AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/backends/b/drain", null);
        try {
            assertEquals(List.of("model-a"), models(), "a drained backend's models are not offered");
        } finally {
            AdminBackendsTest.call(sluice.port(), "POST", "/api/v1/backends/b/enable", null);
        }
        // Other /v1/ paths are still proxied.
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("model-a", false, 2)).exchange();
            assertNull(r.header("x-sluice-error"));
        }
    }

    private static List<String> models() {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/models").exchange();
            assertEquals(200, r.status(), r.body().text());
            JsonNode body = AdminBackendsTest.json(r);
            assertEquals("list", body.get("object").asText());
            List<String> ids = new ArrayList<>();
            body.get("data").forEach(m -> ids.add(m.get("id").asText()));
            return ids;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
