package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Sluice out of file descriptors answers 503 at once and blames nobody: the backend is neither marked
 * down by failed connects or health checks nor retried elsewhere, and the gateway serves again as soon as
 * descriptors are free. Runs Sluice as a child process with a small open-files limit.
 */
class FdExhaustionTest {
    private static final int LIMIT = 300;

    private static JsonNode backend(int port) {
        try (RawHttp c = new RawHttp(port)) {
            JsonNode status = new ObjectMapper().readTree(c.get("/api/v1/status").exchange().body().text());
            return status.path("pools").path(0).path("backends").path(0);
        } catch (IOException e) {
            return new ObjectMapper().createObjectNode();
        }
    }

    private static String logOf(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void outOfDescriptorsIs503AndNotABackendFailure(@TempDir Path dir) throws Exception {
        int port = FreePorts.next(); // below the ephemeral range: the simulator's port 0 cannot be given it
        // Every request waits 3 s for its first token, so all of them hold an upstream connection at once,
        // long enough for health checks (every second) to run while no descriptor is left.
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofSeconds(3)).build())) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, """
                    admin: { scrape-interval: 0s }
                    listeners: [ { port: %d, host: 127.0.0.1, routes: [ { path: /v1/, pool: p }, { path: /api/, admin: true } ] } ]
                    pools:
                      p:
                        health: { interval: 1s, timeout: 900ms, fall: 2, rise: 20 }
                        backends: [ { url: "http://127.0.0.1:%d" } ]
                    """.formatted(port, sim.port()));
            Path log = dir.resolve("sluice.log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process sluice = new ProcessBuilder(List.of("bash", "-c", "ulimit -n " + LIMIT + " && exec \"$0\" \"$@\"",
                    java, "-cp", System.getProperty("java.class.path"), "io.sluice.http.Main", "--config", config.toString()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            List<RawHttp> clients = new ArrayList<>();
            try {
                Await.until("sluice serving", Duration.ofSeconds(30), () -> {
                    assertTrue(sluice.isAlive(), () -> "sluice exited: " + logOf(log));
                    try (RawHttp probe = new RawHttp(port)) {
                        return probe.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange().status() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
                long used;
                try (var fds = Files.list(Path.of("/proc/" + sluice.pid() + "/fd"))) {
                    used = fds.count();
                }
                // Client connections take all but a few descriptors; their requests then need one more each.
                int spare = 4;
                for (long i = used; i < LIMIT - spare; i++) {
                    clients.add(new RawHttp(port));
                }
                for (RawHttp c : clients) {
                    c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1));
                }
                int ok = 0;
                int overloaded = 0;
                for (RawHttp c : clients) {
                    RawHttp.Response r = c.exchange(); // the socket's 30 s timeout fails a request left hanging
                    if (r.status() == 200) {
                        ok++;
                    } else {
                        assertEquals(503, r.status(), r.body().text());
                        assertEquals("gateway_overloaded", r.head().headers().get("x-sluice-error"), () -> logOf(log));
                        overloaded++;
                    }
                }
                assertTrue(overloaded > 0, "some requests must have found no descriptor (ok " + ok + ")");
                for (RawHttp c : clients) {
                    c.close();
                }
                clients.clear();
                long released = System.nanoTime();
                // Health checks ran while descriptors were short. With rise 20, a backend wrongly marked down
                // by them would stay down for 20 s, and this would be a 503.
                try (RawHttp after = new RawHttp(port)) {
                    assertEquals(200, after.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange().status());
                }
                // Health checks go on after the shortage (a check that could not start must not end them),
                // and nothing was counted against the backend.
                Await.until("a health check after the shortage", Duration.ofSeconds(20), () -> {
                    JsonNode b = backend(port);
                    return System.nanoTime() - released > 2_500_000_000L && b.path("last_check").path("ok").asBoolean()
                            && b.path("last_check").path("seconds_ago").asLong(99) == 0;
                });
                assertEquals(0, backend(port).path("failures_total").asLong(-1), () -> logOf(log));
                // Failed accepts pause accepting and are logged with a count, not once per attempt.
                assertTrue(Files.size(log) < 1_000_000, "log flooded: " + Files.size(log) + " bytes");
                String text = Files.readString(log);
                assertFalse(text.contains(": HEALTHY -> "), "the backend must not change state: " + text);
                assertFalse(text.contains("ExceptionInInitializerError"), text);
                assertFalse(text.contains("An exception was thrown by"), text);
            } finally {
                for (RawHttp c : clients) {
                    c.close();
                }
                sluice.destroyForcibly();
                sluice.waitFor();
            }
        }
    }
}
