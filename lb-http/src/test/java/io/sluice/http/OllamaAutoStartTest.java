package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code auto-start: true}: Sluice runs an {@code ollama} executable (a shell script exec'ing
 * {@link FakeOllama}) with {@code OLLAMA_HOST} of the provider's base URL, reports it running in
 * {@code /api/gpu/status}, restarts it when it is killed, and stops it on close.
 */
class OllamaAutoStartTest {
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final String CP = System.getProperty("java.class.path");

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .env("OLLAMA_PORT", String.valueOf(FailureTest.freePort()))
            .files(dir -> {
                Path bin = Files.createDirectories(dir.resolve("bin"));
                Path ollama = bin.resolve("ollama");
                Files.writeString(ollama, "#!/bin/sh\nexec '" + JAVA + "' -Xmx64m -cp '" + CP + "' " + FakeOllama.class.getName() + " \"$@\"\n");
                Files.setPosixFilePermissions(ollama, PosixFilePermissions.fromString("rwx------"));
            })
            .yaml("""
                    server: { provider-check-interval: 200ms }
                    listeners:
                      - port: 0
                        host: 127.0.0.1
                        routes: [ { path: /api/, admin: true } ]
                    admin: { scrape-interval: 0 }
                    providers:
                      ollama:
                        base-url: "http://127.0.0.1:${OLLAMA_PORT}"
                        auto-start: true
                        auto-start-command: "${DIR}/bin/ollama serve"
                    """)
            .build();

    private static JsonNode ollama() {
        try {
            return AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/gpu/status", null)).get("ollama");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void startedRestartedWhenKilledAndStoppedOnClose() throws Exception {
        Await.until("the started ollama answers", Duration.ofSeconds(60), () -> ollama().get("running").asBoolean());
        JsonNode o = ollama();
        assertEquals("fake:latest", o.get("models").get(0).asText(), o.toString());
        assertTrue(o.get("loadedModel").isNull());
        JsonNode process = o.get("process");
        assertTrue(process.get("alive").asBoolean(), o.toString());
        assertEquals(0, process.get("restarts").asInt());
        Await.until("its output kept", Duration.ofSeconds(10),
                () -> ollama().get("process").get("last_output").asText().contains("Listening on 127.0.0.1:"));
        long pid = process.get("pid").asLong();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // our own child, by pid
        Await.until("restarted with a new pid and answering", Duration.ofSeconds(60), () -> {
            JsonNode now = ollama();
            JsonNode p = now.get("process");
            return p.get("restarts").asInt() == 1 && p.get("pid").asLong() != pid && now.get("running").asBoolean();
        });
        long restarted = ollama().get("process").get("pid").asLong();
        assertNotEquals(pid, restarted);
        Await.until("the health check sees it", Duration.ofSeconds(20), () -> {
            JsonNode h = health().get("providers").get("ollama");
            return h.get("reachable").asBoolean() && h.get("status").asInt() == 200;
        });

        sluice.close();
        assertFalse(ProcessHandle.of(restarted).map(ProcessHandle::isAlive).orElse(false), "stopped with Sluice");
    }

    private static JsonNode health() {
        try {
            return AdminBackendsTest.json(AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
