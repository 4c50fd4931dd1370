package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real sluice process with a fake {@code nvidia-smi} first on its PATH reports that GPU in {@code /api/gpu/status}. */
class GpuStatusProcessTest {

    @Test
    void fakeNvidiaSmiOnThePath(@TempDir Path dir) throws Exception {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, GPU-abcd, 42, 1024, 81559, 35, 70.12'\n");
        assertTrue(smi.toFile().setExecutable(true));
        int port = CompatListenerTest.freePort();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, """
                listeners:
                  - { port: %d, host: 127.0.0.1, routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ] }
                pools:
                  vllm:
                    backends: [ { simulator: { model: demo } } ]
                """.formatted(port));
        ProcessBuilder pb = new ProcessBuilder(AdminInferenceTest.JAVA, "-Xmx256m", "-cp", AdminInferenceTest.CP,
                "io.sluice.http.Main", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sluice.log").toFile());
        pb.environment().put("PATH", bin + File.pathSeparator + System.getenv("PATH"));
        Process p = pb.start();
        try {
            JsonNode[] status = new JsonNode[1];
            Await.until("gpu status answers", Duration.ofSeconds(60), () -> {
                try {
                    RawHttp.Response r = AdminBackendsTest.call(port, "GET", "/api/gpu/status", null);
                    status[0] = AdminBackendsTest.json(r);
                    return r.status() == 200;
                } catch (Exception e) {
                    return false;
                }
            });
            JsonNode local = status[0].get("local");
            assertTrue(local.get("available").asBoolean(), local.toString());
            assertEquals("nvidia", local.get("vendor").asText());
            assertEquals("NVIDIA H100 80GB HBM3", local.get("gpus").get(0).get("name").asText());
            assertEquals(42, local.get("gpus").get(0).get("utilization_percent").asInt());
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
