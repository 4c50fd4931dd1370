package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The built-in services {@code vfs} and {@code console}, over real sockets. */
class BuiltinServicesTest {
    static final String YAML = """
            listeners:
              - name: web
                host: 127.0.0.1
                port: 0
                cors: { origins: ["https://app.example"] }
                routes:
                  - { path: /api/vfs/, service: vfs }
                  - { path: /api/console, service: console }
                  - { path: /signaling, service: signaling }
                  - { path: /, static: "${DIR}/public" }
            services:
              vfs: { file: "${DIR}/state/%s", max-size: %s }
              console: { per-minute: 6, max-size: 4KiB }
              signaling: {}
            """;

    @RegisterExtension
    final SluiceExtension sluice = SluiceExtension.builder()
            .files(dir -> Files.writeString(Files.createDirectories(dir.resolve("public")).resolve("index.html"), "app"))
            .yaml(YAML.formatted("vfs.json", "1KiB"))
            .build();

    RawHttp.Response post(String path, String body, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.post(path, body, headers).exchange();
        }
    }

    RawHttp.Response raw(String request) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.sendRaw(request).exchange();
        }
    }

    RawHttp.Response get(String path, String... headers) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            return c.get(path, headers).exchange();
        }
    }

    @Test
    void vfsBackupAndRestore() throws Exception {
        RawHttp.Response r = get("/api/vfs/restore");
        assertEquals(200, r.status());
        assertEquals("{}", r.body().text(), "nothing stored yet");
        String state = "{\"files\":{\"/a.txt\":\"hello\"},\"n\":[1,2,3]}";
        r = post("/api/vfs/backup", state);
        assertEquals(200, r.status());
        assertEquals("{\"ok\":true,\"bytes\":" + state.length() + "}", r.body().text());
        assertEquals(state, get("/api/vfs/restore").body().text());
        assertEquals("application/json", get("/api/vfs/restore").header("content-type"));
        Path file = sluice.dir().resolve("state/vfs.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String next = "{\"v\":2}";
        assertEquals(200, post("/api/vfs/backup", next).status());
        assertEquals(next, Files.readString(file));
        try (Stream<Path> left = Files.list(file.getParent())) {
            assertEquals(List.of(file), left.toList(), "no temporary file left behind");
        }
    }

    @Test
    void aReloadChangesTheServices() throws Exception {
        String state = "{\"a\":\"0123456789\"}";
        assertEquals(200, post("/api/vfs/backup", state).status());
        sluice.reload(YAML.formatted("other.json", "10"));
        assertEquals("{}", get("/api/vfs/restore").body().text(), "the new file");
        assertEquals(413, post("/api/vfs/backup", state).status(), "the new limit");
        assertEquals(state, Files.readString(sluice.dir().resolve("state/vfs.json")));
    }

    @Test
    void vfsRefusals() throws Exception {
        RawHttp.Response r = post("/api/vfs/backup", "{\"big\":\"" + "x".repeat(2000) + "\"}");
        assertEquals(413, r.status());
        assertTrue(r.body().text().contains("\"error\""));
        // chunked, no length announced: refused once the limit is passed
        String chunk = "{\"big\":\"" + "y".repeat(1500) + "\"}";
        r = raw("POST /api/vfs/backup HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n");
        assertEquals(413, r.status());
        r = raw("POST /api/vfs/backup HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}");
        assertEquals(415, r.status());
        r = raw("POST /api/vfs/backup HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}");
        assertEquals(415, r.status(), "no content type");
        assertEquals(400, post("/api/vfs/backup", "{\"a\":").status());
        assertEquals(400, post("/api/vfs/backup", "{} trailing").status());
        assertEquals(400, post("/api/vfs/backup", "").status());
        assertEquals(200, post("/api/vfs/backup", "{\"ok\":1}", "Content-Type: application/json; charset=utf-8").status());
        r = get("/api/vfs/backup");
        assertEquals(405, r.status());
        assertEquals("POST", r.header("allow"));
        assertEquals(405, post("/api/vfs/restore", "{}").status());
        assertEquals(404, get("/api/vfs/other").status());
        assertFalse(Files.exists(sluice.dir().resolve("state/vfs.json.tmp")));
    }

    @Test
    void aClientLeavingMidBodyAndAPlainRequestToAWebSocketService() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("POST /api/vfs/backup HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 900\r\n\r\n{\"partial\":");
        } // closed mid-body: what was read is released (paranoid leak detection fails the class otherwise)
        RawHttp.Response r = get("/signaling"); // the WebSocket relay: a plain request is told to upgrade
        assertEquals(426, r.status());
        assertEquals("{}", get("/api/vfs/restore").body().text(), "nothing was stored");
    }

    @Test
    void crossOriginRefusedAllowedOriginServed() throws Exception {
        RawHttp.Response r = post("/api/vfs/backup", "{}", "Origin: https://evil.example");
        assertEquals(403, r.status());
        assertEquals("origin_not_allowed", r.header("x-sluice-error"));
        assertFalse(Files.exists(sluice.dir().resolve("state/vfs.json")), "nothing stored");
        assertEquals(403, get("/api/vfs/restore", "Origin: https://evil.example").status());
        assertEquals(403, post("/api/console", "{\"level\":\"info\",\"message\":\"x\"}", "Origin: https://evil.example").status());
        assertEquals(200, post("/api/vfs/backup", "{}", "Origin: https://app.example").status());
        // same origin on an address that cannot be rebound
        assertEquals(200, get("/api/vfs/restore", "Origin: http://localhost").status());
    }

    @Test
    void consoleLinesLevelsAndNoForgedLines() throws Exception {
        List<String> lines = captureErr(() -> {
            for (String level : List.of("debug", "info", "warn", "error", "log")) { // debug: below the log's level
                assertEquals(204, post("/api/console", "{\"level\":\"" + level + "\",\"message\":\"hello " + level
                        + "\",\"data\":{\"k\":[1,2]}}").status());
            }
            assertEquals(204, post("/api/console",
                    "{\"level\":\"error\",\"message\":\"real\\r\\n[main] ERROR sluice.admin - forged\\u2028x\"}").status());
        }, 5);
        assertTrue(lines.stream().anyMatch(l -> l.contains("WARN sluice.console") && l.contains("127.0.0.1: hello warn")
                && l.contains("data={\"k\":[1,2]}")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("INFO sluice.console") && l.contains("hello log")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("ERROR sluice.console") && l.contains("hello error")), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("[main] ERROR sluice.admin")), "a forged line: " + lines);
        assertTrue(lines.stream().anyMatch(l -> l.contains("real\\r\\n[main] ERROR sluice.admin - forged\\u2028x")), lines.toString());
    }

    @Test
    void consoleRefusalsAndRateLimit() throws Exception {
        assertEquals(400, post("/api/console", "{\"level\":\"fatal\",\"message\":\"x\"}").status());
        assertEquals(400, post("/api/console", "{\"level\":\"info\",\"message\":5}").status());
        assertEquals(400, post("/api/console", "[1]").status());
        assertEquals(405, get("/api/console").status());
        assertEquals(415, raw("POST /api/console HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 2\r\n\r\n{}").status());
        // 6 a minute per client: some went to the refusals above; within seven more lines one is refused
        RawHttp.Response r = null;
        for (int i = 0; i < 7; i++) {
            r = post("/api/console", "{\"level\":\"info\",\"message\":\"x\"}");
            if (r.status() != 204) {
                break;
            }
        }
        assertEquals(429, r.status());
        assertTrue(Integer.parseInt(r.header("retry-after")) >= 1);
        assertEquals("rate_limited", r.header("x-sluice-error"));
        assertEquals(200, get("/api/vfs/restore").status(), "other services are not limited");
    }

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} with stderr (slf4j-simple's output) copied; waits until at least {@code lines} console lines arrived. */
    static List<String> captureErr(Body body, int lines) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                original.write(b);
                synchronized (captured) {
                    captured.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                synchronized (captured) {
                    captured.write(b, off, len);
                }
            }
        }, true, StandardCharsets.UTF_8));
        try {
            body.run();
            Await.until(lines + " console lines", Duration.ofSeconds(10), () -> consoleLines(captured).size() >= lines);
            synchronized (captured) {
                return captured.toString(StandardCharsets.UTF_8).lines().toList();
            }
        } finally {
            System.setErr(original);
        }
    }

    private static List<String> consoleLines(ByteArrayOutputStream captured) {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("sluice.console")).toList();
        }
    }
}
