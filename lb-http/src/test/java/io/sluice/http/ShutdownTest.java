package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a real Sluice process: streams in progress finish, new connections are refused, exit 0. */
class ShutdownTest {

    @Test
    void sigtermDrainsOpenStreamsAndExitsZero(@TempDir Path dir) throws Exception {
        int port = FreePorts.next(); // below the ephemeral range: the simulator's port 0 cannot be given it
        try (VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .ttft(Duration.ofMillis(10)).itl(Duration.ofMillis(50)).build())) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, """
                    server: { shutdown-grace: 20s }
                    listeners: [ { port: %d, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] } ]
                    pools: { p: { backends: [ { url: "http://127.0.0.1:%d" } ] } }
                    """.formatted(port, sim.port()));
            Process sluice = new ProcessBuilder(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"),
                    "io.sluice.http.Main", "--config", config.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("sluice.log").toFile())
                    .start();
            try {
                Await.until("sluice listening", Duration.ofSeconds(30), () -> {
                    assertTrue(sluice.isAlive(), () -> "sluice exited: " + log(dir));
                    try (RawHttp probe = new RawHttp(port)) {
                        return probe.get("/v1/models").exchange().status() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
                try (RawHttp stream = new RawHttp(port)) {
                    stream.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 40)); // ~2 s of tokens
                    RawHttp.Head head = stream.readHead();
                    stream.readChunk();
                    sluice.destroy(); // SIGTERM
                    Await.until("listener closed", Duration.ofSeconds(10), () -> {
                        try (RawHttp probe = new RawHttp(port)) {
                            return false;
                        } catch (IOException refused) {
                            return true;
                        }
                    });
                    RawHttp.Body rest = stream.readBody(head);
                    assertTrue(rest.complete(), "the stream in progress must finish");
                    List<String> events = rest.events();
                    assertEquals("[DONE]", events.get(events.size() - 1));
                }
                assertTrue(sluice.waitFor(30, TimeUnit.SECONDS), "sluice did not exit");
                assertEquals(0, sluice.exitValue(), Files.readString(dir.resolve("sluice.log")));
                assertThrows(IOException.class, () -> new RawHttp(port).close());
            } finally {
                sluice.destroyForcibly();
            }
        }
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("sluice.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
