package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /api/v1/config/reload} applies a changed file with streams open, and rejects a broken one. */
class AdminReloadTest {
    static final SimulatorOptions SLOW = SimulatorOptions.builder().model("demo").ttft(Duration.ofMillis(5))
            .itl(Duration.ofMillis(100)).maxTokens(20).build();
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder().simulators(SLOW, SLOW).yaml(yaml(false, false)).build();
    static VllmSimulator b;
    static SluiceServer server;
    static Path file;

    static String yaml(boolean withB, boolean withV2) {
        return """
                listeners:
                  - name: main
                    port: 0
                    host: 127.0.0.1
                    routes:
                      - { path: /v1/, pool: vllm }
                      - { path: /api/, admin: true }
                %s
                pools:
                  vllm:
                    health: { interval: 100ms, timeout: 90ms, rise: 1 }
                    backends:
                      - { url: "http://127.0.0.1:${SIM0}", name: a }
                %s
                admin: { scrape-interval: 0 }
                """.formatted(withV2 ? "      - { path: /v2/, pool: vllm }" : "",
                withB ? "      - { url: \"http://127.0.0.1:${SIM1}\", name: b }" : "");
    }

    @BeforeAll
    static void start() {
        b = sluice.sim(1);
        server = sluice.server();
        file = sluice.configFile();
    }

    private static RawHttp.Response reload() throws Exception {
        return AdminBackendsTest.call(server.port(), "POST", "/api/v1/config/reload", "");
    }

    @Test
    void reloadAddsABackendAndARouteWithoutDroppingTheOpenStream() throws Exception {
        try (RawHttp stream = new RawHttp(server.port()); RawHttp keepAlive = new RawHttp(server.port())) {
            RawHttp.Response before = keepAlive.get("/v2/models").exchange();
            assertEquals(404, before.status());
            assertEquals("route_not_found", before.header("x-sluice-error"));

            stream.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 20));
            assertEquals(200, stream.readHead().status());
            StringBuilder text = new StringBuilder(stream.readChunk().text());

            sluice.writeConfig(yaml(true, true));
            RawHttp.Response r = reload();
            assertEquals(200, r.status(), r.body().text());
            JsonNode changes = AdminBackendsTest.json(r).get("changes");
            assertTrue(changes.toString().contains("backend b added"), changes.toString());
            assertTrue(changes.toString().contains("routes replaced"), changes.toString());
            assertEquals(0, AdminBackendsTest.json(r).get("needs_restart").size());

            // The open keep-alive connection sees the new route on its next request.
            RawHttp.Response after = keepAlive.get("/v2/models").exchange();
            assertNull(after.header("x-sluice-error"), "proxied now, not a gateway 404");

            RawHttp.Chunk c;
            while ((c = stream.readChunk()) != null) {
                text.append(c.text());
            }
            assertTrue(text.toString().contains("data: [DONE]"), "the stream opened before the reload ran to its end");
        }
        Await.until("b passes its health check", Duration.ofSeconds(20), () -> server.upstreams().pool("vllm")
                .backends().stream().anyMatch(x -> x.id().equals("b") && x.isAvailable()));
        assertEquals(200, AdminBackendsTest.call(server.port(), "POST", "/api/v1/backends/a/drain", null).status());
        long beforeB = b.requestsTotal();
        try (RawHttp c = new RawHttp(server.port())) {
            assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2)).exchange().status());
        }
        assertEquals(beforeB + 1, b.requestsTotal(), "the reloaded backend takes traffic");
        AdminBackendsTest.call(server.port(), "POST", "/api/v1/backends/a/enable", null);

        // A broken file is rejected with its location, and the running config stays.
        sluice.writeConfig(yaml(true, true).replace("pool: vllm }", "pool: vllm, wat: 1 }"));
        RawHttp.Response bad = reload();
        assertEquals(400, bad.status());
        assertEquals("invalid_config", bad.header("x-sluice-error"));
        assertTrue(bad.body().text().contains("sluice.yaml:6:"), bad.body().text());
        assertTrue(bad.body().text().contains("unknown key 'wat'"), bad.body().text());
        assertEquals(2, server.upstreams().pool("vllm").backends().size());
        try (RawHttp c = new RawHttp(server.port())) {
            assertNull(c.get("/v2/models").exchange().header("x-sluice-error"), "routes unchanged");
        }

        // Back to one backend: b is drained and removed.
        sluice.writeConfig(yaml(false, true));
        assertEquals(200, reload().status());
        Await.until("b removed", Duration.ofSeconds(20), () -> server.upstreams().pool("vllm").backends().size() == 1);
    }

    @Test
    void listenerSettingsBuiltAtStartAreAppliedLive() throws Exception {
        String original = Files.readString(file);
        try {
            Files.writeString(file, original.replace("    host: 127.0.0.1\n",
                    "    host: 127.0.0.1\n    cors: { origins: [ \"https://app.example\" ] }\n"));
            RawHttp.Response r = reload();
            assertEquals(200, r.status(), r.body().text());
            assertEquals(0, AdminBackendsTest.json(r).get("needs_restart").size(), r.body().text());
            try (RawHttp c = new RawHttp(server.port())) {
                RawHttp.Response pre = c.sendRaw("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                        + "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n\r\n").exchange();
                assertEquals(204, pre.status(), "CORS added by the reload answers preflights at once");
            }
        } finally {
            Files.writeString(file, original);
            assertEquals(200, reload().status());
        }
    }
}
