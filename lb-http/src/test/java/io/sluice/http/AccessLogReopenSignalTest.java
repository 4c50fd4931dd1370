package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * logrotate's way without copytruncate: the file is renamed, then SIGUSR1 makes a real {@code sluice}
 * process reopen it, so the next lines land in a new file at the configured path.
 */
class AccessLogReopenSignalTest {

    @Test
    void sigusr1ReopensTheRenamedLog(@TempDir Path dir) throws Exception {
        int port = CompatListenerTest.freePort();
        Path file = dir.resolve("sluice.yaml");
        Path access = dir.resolve("access.log");
        Path rotated = dir.resolve("access.log.1");
        Path log = dir.resolve("sluice.log");
        Files.writeString(file, """
                access-log: { output: "%s" }
                listeners:
                  - { host: 127.0.0.1, port: %d, routes: [ { path: /v1/, pool: vllm } ] }
                pools:
                  vllm: { backends: [ { simulator: { model: demo, ttft: 1ms, itl: 1ms } } ] }
                """.formatted(access, port));
        Process p = new ProcessBuilder(AdminInferenceTest.JAVA, "-Xmx256m", "-cp", AdminInferenceTest.CP,
                "io.sluice.http.Main", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Await.until("sluice answers and logs", Duration.ofSeconds(60),
                    () -> status(port, "/before") == 404 && read(access).contains("\"/before\""));

            Files.move(access, rotated); // logrotate's rename
            assertEquals(404, status(port, "/renamed"));
            Await.until("a line written before the signal goes to the renamed file", Duration.ofSeconds(10),
                    () -> read(rotated).contains("\"/renamed\""));
            assertFalse(Files.exists(access));

            Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(p.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor());
            Await.until("the reopen is logged", Duration.ofSeconds(10), () -> read(log).contains("access log: reopened"));
            assertEquals(404, status(port, "/after"));
            try {
                Await.until("the next line lands in a new file at the original path", Duration.ofSeconds(10),
                        () -> read(access).contains("\"/after\""));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; log:\n" + read(log), e);
            }
            assertFalse(read(access).contains("\"/before\""), "a new file");
            assertFalse(read(rotated).contains("\"/after\""), "the renamed file is left alone");
            assertTrue(p.isAlive(), "SIGUSR1 does not end the gateway");
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static int status(int port, String path) {
        try (RawHttp c = new RawHttp(port)) {
            return c.get(path).exchange().status();
        } catch (Exception e) {
            return -1;
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
