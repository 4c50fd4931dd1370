package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sluice --check FILE}: 0 for a valid file, 2 with file:line:column for an invalid one. */
class MainCheckTest {

    @Test
    void theShippedConfigsAreValid() {
        assertEquals(0, run("--check", "../config/sluice.yaml").code);
        assertEquals(0, run("--check", "../config/vllm.yaml").code);
        assertEquals(0, run("--check", "../config/examples/models.yaml").code);
    }

    @Test
    void anInvalidFileExitsWith2AndNamesTheLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, """
                listeners:
                  - port: 8000
                    routes:
                      - { path: /v1/, pool: vlm }
                pools:
                  vllm:
                    backends:
                      - url: http://127.0.0.1:8001
                """);
        Result r = run("--check", f.toString());
        assertEquals(Main.EXIT_CONFIG, r.code);
        assertTrue(r.err.contains("bad.yaml:4:"), r.err);
        assertTrue(r.err.contains("no pool named 'vlm'"), r.err);
        assertTrue(r.err.contains("listeners[0].routes[0].pool"), r.err);
    }

    @Test
    void aStartAttemptWithAnInvalidFileAlsoExitsWith2(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "listeners: []\nbogus: 1\n");
        Result r = run("--config", f.toString());
        assertEquals(Main.EXIT_CONFIG, r.code);
        assertTrue(r.err.contains("bad.yaml:2:"), r.err);
    }

    @Test
    void aTrainingRunStartsWithItsWarmUpThenStopsAndExits0(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("training.yaml");
        Files.writeString(f, """
                server: { warmup: 300ms, shutdown-grace: 1s }
                listeners:
                  - { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: sim } ] }
                pools:
                  sim:
                    backends: [ { name: training, simulator: { model: demo, ttft: 1ms, itl: 1ms } } ]
                """);
        Result r = run("--config", f.toString(), "--exit-after-start"); // what bin/run's CDS training runs
        assertEquals(0, r.code, r.err);
        assertTrue(r.err.contains("warm-up"), "the warm-up ran: " + r.err);
    }

    private record Result(int code, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new Main()).execute(args);
            return new Result(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }
}
