package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real {@code sluice} process reloads its config on SIGHUP, and keeps it when the new file is broken. */
class ReloadSignalTest {

    static String yaml(int port, boolean v2) {
        return """
                listeners:
                  - port: %d
                    host: 127.0.0.1
                    routes:
                      - { path: /v1/, pool: vllm }
                      - { path: /api/, admin: true }
                %s
                pools:
                  vllm:
                    health: { interval: 200ms, timeout: 100ms }
                    backends: [ { simulator: { model: demo, ttft: 1ms, itl: 1ms } } ]
                """.formatted(port, v2 ? "      - { path: /v2/, pool: vllm }" : "");
    }

    private static String v2Error(int port) {
        try (RawHttp c = new RawHttp(port)) {
            return String.valueOf(c.get("/v2/models").exchange().header("x-sluice-error"));
        } catch (Exception e) {
            return "unreachable: " + e;
        }
    }

    private static void hup(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
    }

    @Test
    void sighupReloads(@TempDir Path dir) throws Exception {
        int port = CompatListenerTest.freePort();
        Path file = dir.resolve("sluice.yaml");
        Path log = dir.resolve("sluice.log");
        Files.writeString(file, yaml(port, false));
        Process p = new ProcessBuilder(AdminInferenceTest.JAVA, "-Xmx256m", "-cp", AdminInferenceTest.CP,
                "io.sluice.http.Main", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Await.until("sluice answers", Duration.ofSeconds(60), () -> v2Error(port).equals("route_not_found"));

            org.junit.jupiter.api.Assumptions.assumeFalse(read(log).contains("SIGHUP is ignored"),
                    "this test runs with SIGHUP ignored (under nohup?), which the gateway inherits: nothing to test");
            Files.writeString(file, yaml(port, true));
            hup(p);
            try {
                Await.until("the new /v2/ route is proxied", Duration.ofSeconds(30), () -> v2Error(port).equals("null"));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; /v2/ answers " + v2Error(port) + "; log:\n" + read(log), e);
            }

            Files.writeString(file, yaml(port, true).replace("health:", "helth:"));
            hup(p);
            Await.until("the rejection is logged", Duration.ofSeconds(30),
                    () -> read(log).contains("configuration rejected, the running one stays"));
            assertEquals("null", v2Error(port), "the running config stays");
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (Exception e) {
            return "";
        }
    }
}
