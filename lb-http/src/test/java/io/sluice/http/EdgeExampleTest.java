package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code config/examples/edge.yaml} does what its comments say, on an ephemeral port instead of 8000:
 * the app's files, its WebSocket server behind {@code /app/}, the built-in services, the vLLM pool and
 * the dashboard, all from one listener.
 */
class EdgeExampleTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .configFile(Path.of("../config/examples/edge.yaml"))
            .backend("WS", WsBackend::new, WsBackend::port)
            .files(dir -> {
                java.nio.file.Files.createDirectories(dir.resolve("public"));
                java.nio.file.Files.createDirectories(dir.resolve("dist"));
                java.nio.file.Files.writeString(dir.resolve("public/index.html"), "<h1>the app</h1>");
                java.nio.file.Files.writeString(dir.resolve("dist/app.js"), "console.log('built')");
            })
            .env("SLUICE_PORT", "0")
            .env("STATIC_ROOT", "${DIR}/public")
            .env("DIST_ROOT", "${DIR}/dist")
            .env("VFS_FILE", "${DIR}/vfs.json")
            .env("APP_URL", "http://127.0.0.1:${WS}")
            .build();

    static RawHttp.Response get(String path) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.get(path).exchange();
        }
    }

    @Test
    void theAppsFilesAtTheRootAndDistAtDist() throws Exception {
        RawHttp.Response index = get("/");
        assertEquals(200, index.status());
        assertEquals("<h1>the app</h1>", index.body().text());
        RawHttp.Response route;
        try (RawHttp c = new RawHttp(sluice.port())) {
            route = c.get("/some/client/route", "Accept: text/html").exchange();
        }
        assertEquals("<h1>the app</h1>", route.body().text(), "the single-page-app fallback, for a browser");
        RawHttp.Response js = get("/dist/app.js");
        assertEquals(200, js.status());
        assertEquals("console.log('built')", js.body().text());
        assertTrue(js.header("cache-control").contains("immutable"), js.header("cache-control"));
    }

    @Test
    void webSocketsUnderAppReachTheAppsServer() throws Exception {
        try (WsClient c = WsClient.open(sluice.port(), "/app/echo")) {
            c.text("through the tunnel");
            assertEquals("through the tunnel", c.next());
        }
    }

    @Test
    void theBuiltInServicesAnswer() throws Exception {
        try (WsClient a = WsClient.open(sluice.port(), "/signaling")) {
            a.text("{\"type\":\"join\",\"room\":\"r\",\"peer\":\"alice\"}");
            assertEquals("peers", JSON.readTree((String) a.next()).path("type").asText());
        }
        JsonNode stats = JSON.readTree(get("/api/agent-bridge/stats").body().text());
        assertTrue(stats.has("agents") && stats.has("messagesRelayed"), stats.toString());
        RawHttp.Response saved;
        try (RawHttp c = new RawHttp(sluice.port())) {
            saved = c.post("/api/vfs/backup", "{\"files\":{\"a.txt\":\"hi\"}}").exchange();
        }
        assertEquals(200, saved.status(), saved.body().text());
        assertEquals("hi", JSON.readTree(get("/api/vfs/restore").body().text()).path("files").path("a.txt").asText());
        RawHttp.Response logged;
        try (RawHttp c = new RawHttp(sluice.port())) {
            logged = c.post("/api/console", "{\"level\":\"info\",\"message\":\"from the browser\"}").exchange();
        }
        assertEquals(204, logged.status());
    }

    @Test
    void theSimulatedPoolStreamsAndTheDashboardIsServed() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 3)).exchange();
        }
        assertEquals(200, r.status());
        List<String> events = r.body().events();
        assertEquals("[DONE]", events.get(events.size() - 1));
        RawHttp.Response ui = get("/api/ui");
        assertEquals(200, ui.status());
        assertTrue(ui.header("content-type").startsWith("text/html"), ui.header("content-type"));
    }
}
