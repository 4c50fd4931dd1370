package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code access-log.max-size}: the writer rotates the file itself, keeping at most {@code max-files} old ones. */
class AccessLogRotationTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml("""
                    access-log: { output: "${DIR}/access.log", max-size: 1KiB, max-files: 2 }
                    listeners: [ { host: 127.0.0.1, port: 0, routes: [ { path: /v1/, pool: vllm } ] } ]
                    pools:
                      vllm: { backends: [ { simulator: { model: demo, ttft: 1ms, itl: 1ms } } ] }
                    """)
            .build();

    static List<String> logs() throws Exception {
        try (Stream<Path> files = Files.list(sluice.dir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("access.log")).sorted().toList();
        }
    }

    static List<String> lines(String name) throws Exception {
        return Files.readAllLines(sluice.file(name));
    }

    @Test
    void rotatesBySizeAndKeepsMaxFiles() throws Exception {
        // Each line is some 400 bytes: a 1KiB file holds two, so 12 requests rotate several times.
        int requests = 12;
        try (RawHttp c = new RawHttp(sluice.port())) {
            for (int i = 0; i < requests; i++) {
                assertEquals(404, c.get("/nope/" + i).exchange().status());
                int n = i;
                Await.until("line " + n + " written", Duration.ofSeconds(10),
                        () -> exists("access.log") && read("access.log").contains("/nope/" + n + "\""));
            }
        }
        assertEquals(List.of("access.log", "access.log.1", "access.log.2"), logs(), "at most max-files old files");
        for (String f : logs()) {
            long size = Files.size(sluice.file(f));
            assertTrue(size > 0 && size <= 1024, f + " is " + size + " bytes");
        }
        // The newest lines are in access.log, the ones before in .1, before those in .2; older ones are gone.
        List<String> newest = lines("access.log");
        List<String> previous = lines("access.log.1");
        assertTrue(newest.get(newest.size() - 1).contains("\"/nope/" + (requests - 1) + "\""), newest.toString());
        assertTrue(previous.get(previous.size() - 1).contains("\"/nope/" + (requests - 1 - newest.size()) + "\""),
                previous.toString());
        assertFalse(read("access.log.2").contains("\"/nope/0\""), "the oldest lines were deleted");
    }

    static boolean exists(String name) {
        return Files.exists(sluice.file(name));
    }

    static String read(String name) {
        try {
            return Files.readString(sluice.file(name));
        } catch (Exception e) {
            return "";
        }
    }
}
