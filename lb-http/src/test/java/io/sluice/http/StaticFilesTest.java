package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@code static:} target on a plain listener: HTTP/1.1 (zero-copy) and h2c (chunked), over real sockets. */
class StaticFilesTest {
    static final byte[] BIG = random(4 << 20, 1);
    static final byte[] HUGE = random(48 << 20, 2); // larger than socket buffers: the client can leave mid-file

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .files(StaticFilesTest::layout)
            .yaml("""
                    listeners:
                      - name: web
                        host: 127.0.0.1
                        port: 0
                        routes:
                          - { path: /, static: { root: "${DIR}/public", cache-control: no-cache } }
                          - { path: /dist, static: { root: "${DIR}/dist", cache-control: "public, max-age=31536000, immutable" } }
                          - { path: /app/, static: { root: "${DIR}/public", spa-fallback: index.html } }
                          - { path: /raw/, static: { root: "${DIR}/public", precompressed: false } }
                      - name: slow
                        host: 127.0.0.1
                        port: 0
                        idle-timeout: 1s
                        routes:
                          - { path: /, static: "${DIR}/public" }
                    """)
            .build();

    static void layout(Path dir) throws IOException {
        Path pub = Files.createDirectories(dir.resolve("public"));
        Files.writeString(pub.resolve("index.html"), "<h1>home</h1>");
        Files.writeString(pub.resolve("hello.txt"), "hello, world\n");
        Files.writeString(pub.resolve("app.js"), "console.log('identity');");
        Files.writeString(pub.resolve("app.js.br"), "BR-BYTES");
        Files.writeString(pub.resolve("app.js.gz"), "GZ-BYTES");
        Files.writeString(pub.resolve("only.css.gz"), "GZ-ONLY");
        Files.writeString(pub.resolve("style.css"), "body{}");
        Files.write(pub.resolve("img.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        Files.write(pub.resolve("data.bin"), new byte[] {1, 2, 3});
        Files.write(pub.resolve("big.bin"), BIG);
        Files.write(pub.resolve("huge.bin"), HUGE);
        Files.writeString(pub.resolve(".env"), "SECRET=1");
        Files.createDirectories(pub.resolve(".git"));
        Files.writeString(pub.resolve(".git/config"), "SECRET");
        Files.createDirectories(pub.resolve("sub"));
        Files.writeString(pub.resolve("sub/index.html"), "<h1>sub</h1>");
        Files.createDirectories(pub.resolve("noindex"));
        Files.writeString(pub.resolve("noindex/a.txt"), "a");
        Files.writeString(dir.resolve("secret.txt"), "TOP-SECRET");
        Files.createDirectories(dir.resolve("outside"));
        Files.writeString(dir.resolve("outside/x.txt"), "TOP-SECRET");
        Files.createSymbolicLink(pub.resolve("evil.txt"), Path.of("../secret.txt"));
        Files.createSymbolicLink(pub.resolve("evildir"), dir.resolve("outside"));
        Files.createSymbolicLink(pub.resolve("alias.txt"), Path.of("hello.txt"));
        Files.createSymbolicLink(pub.resolve("linked.css"), Path.of("hello.txt"));
        Path dist = Files.createDirectories(dir.resolve("dist"));
        Files.writeString(dist.resolve("app.js"), "dist-app");
        Files.writeString(dist.resolve("index.html"), "<h1>dist</h1>");
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** One response read off a raw socket, with its body as bytes. */
    record Resp(int status, java.util.Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    static Resp read(RawHttp c, boolean head) throws IOException {
        RawHttp.Head h = c.readHead();
        String cl = h.header("content-length");
        byte[] body = new byte[0];
        if (!head && h.status() != 304 && cl != null) {
            body = c.socket.getInputStream().readNBytes(Integer.parseInt(cl));
        }
        return new Resp(h.status(), h.headers(), body);
    }

    static Resp get(String path, String... headers) throws IOException {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.get(path, headers);
            return read(c, false);
        }
    }

    @Test
    void indexMimeTypesAndCacheControl() throws Exception {
        Resp r = get("/");
        assertEquals(200, r.status());
        assertEquals("<h1>home</h1>", r.text());
        assertEquals("text/html; charset=utf-8", r.header("content-type"));
        assertEquals("no-cache", r.header("cache-control"));
        assertEquals("bytes", r.header("accept-ranges"));
        assertEquals("text/css; charset=utf-8", get("/style.css").header("content-type"));
        assertEquals("text/plain; charset=utf-8", get("/hello.txt").header("content-type"));
        assertEquals("image/png", get("/img.png").header("content-type"));
        assertEquals("application/octet-stream", get("/data.bin").header("content-type"));
        assertEquals("<h1>sub</h1>", get("/sub/").text());
        assertEquals("text/css; charset=utf-8", get("/linked.css").header("content-type"), "by the name asked for");
    }

    @Test
    void directoriesRedirectWithTheirSlashAndAreNeverListed() throws Exception {
        Resp r = get("/sub?x=1");
        assertEquals(301, r.status());
        assertEquals("/sub/?x=1", r.header("location"));
        r = get("/dist");
        assertEquals(301, r.status());
        assertEquals("/dist/", r.header("location"));
        assertEquals(404, get("/noindex/").status());
        assertEquals(404, get("/hello.txt/").status());
        assertEquals(404, get("/hello.txt/x").status(), "a file is not a directory");
        assertEquals("/sub/", get("//sub").header("location"), "never a protocol-relative redirect");
        assertEquals(404, get("/nothing.txt").status());
        assertTrue(get("/nothing.txt").header("content-type").startsWith("application/json"));
    }

    @Test
    void publicAtTheRootAndDistAtDist() throws Exception {
        Resp r = get("/dist/app.js");
        assertEquals("dist-app", r.text());
        assertEquals("public, max-age=31536000, immutable", r.header("cache-control"));
        assertEquals("text/javascript; charset=utf-8", r.header("content-type"));
        assertEquals("<h1>dist</h1>", get("/dist/").text());
        assertEquals(404, get("/distx").status(), "/distx is not under /dist");
        assertEquals("console.log('identity');", get("/app.js").text());
    }

    @Test
    void notModifiedByEtagAndByDate() throws Exception {
        Resp r = get("/hello.txt");
        String etag = r.header("etag");
        String date = r.header("last-modified");
        assertNotNull(etag);
        assertNotNull(date);
        Resp nm = get("/hello.txt", "If-None-Match: " + etag);
        assertEquals(304, nm.status());
        assertEquals(etag, nm.header("etag"));
        assertEquals("no-cache", nm.header("cache-control"));
        assertEquals(304, get("/hello.txt", "If-None-Match: \"x\", W/" + etag).status());
        assertEquals(200, get("/hello.txt", "If-None-Match: \"other\"").status());
        assertEquals(304, get("/hello.txt", "If-Modified-Since: " + date).status());
        assertEquals(200, get("/hello.txt", "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT").status());
        // If-None-Match wins over If-Modified-Since
        assertEquals(200, get("/hello.txt", "If-None-Match: \"other\"", "If-Modified-Since: " + date).status());
    }

    @Test
    void rangesIfRangeAndUnsatisfiable() throws Exception {
        Resp r = get("/big.bin", "Range: bytes=10-19");
        assertEquals(206, r.status());
        assertEquals("bytes 10-19/" + BIG.length, r.header("content-range"));
        assertArrayEquals(Arrays.copyOfRange(BIG, 10, 20), r.body());
        r = get("/big.bin", "Range: bytes=-5");
        assertEquals(206, r.status());
        assertArrayEquals(Arrays.copyOfRange(BIG, BIG.length - 5, BIG.length), r.body());
        r = get("/big.bin", "Range: bytes=" + (BIG.length - 3) + "-");
        assertArrayEquals(Arrays.copyOfRange(BIG, BIG.length - 3, BIG.length), r.body());
        r = get("/big.bin", "Range: bytes=" + BIG.length + "-");
        assertEquals(416, r.status());
        assertEquals("bytes */" + BIG.length, r.header("content-range"));
        assertTrue(r.header("content-type").startsWith("application/json"));
        String etag = get("/hello.txt").header("etag");
        r = get("/hello.txt", "Range: bytes=0-4", "If-Range: " + etag);
        assertEquals(206, r.status());
        assertEquals("hello", r.text());
        r = get("/hello.txt", "Range: bytes=0-4", "If-Range: \"stale\"");
        assertEquals(200, r.status());
        assertEquals("hello, world\n", r.text());
        r = get("/hello.txt", "Range: bytes=0-1,3-4");
        assertEquals(200, r.status(), "several ranges: the whole file");
        assertEquals("hello, world\n", r.text());
    }

    @Test
    void precompressedSiblingsByAcceptEncoding() throws Exception {
        Resp r = get("/app.js", "Accept-Encoding: gzip, deflate, br");
        assertEquals("BR-BYTES", r.text());
        assertEquals("br", r.header("content-encoding"));
        assertEquals("Accept-Encoding", r.header("vary"));
        assertEquals("text/javascript; charset=utf-8", r.header("content-type"));
        r = get("/app.js", "Accept-Encoding: gzip");
        assertEquals("GZ-BYTES", r.text());
        assertEquals("gzip", r.header("content-encoding"));
        r = get("/app.js", "Accept-Encoding: br;q=0, gzip;q=0.5");
        assertEquals("GZ-BYTES", r.text());
        r = get("/app.js", "Accept-Encoding: gzip;q=1, br;q=0.2");
        assertEquals("GZ-BYTES", r.text(), "the higher q wins");
        r = get("/app.js");
        assertEquals("console.log('identity');", r.text());
        assertNull(r.header("content-encoding"));
        assertEquals("Accept-Encoding", r.header("vary"));
        String etagBr = get("/app.js", "Accept-Encoding: br").header("etag");
        assertFalse(etagBr.equals(r.header("etag")), "each representation has its own ETag");
        r = get("/app.js", "Accept-Encoding: br", "Range: bytes=0-1");
        assertEquals(206, r.status());
        assertEquals("BR", r.text(), "a range of the compressed representation");
        assertEquals(404, get("/only.css", "Accept-Encoding: gzip").status(), "no sibling without its file");
        r = get("/raw/app.js", "Accept-Encoding: br");
        assertEquals("console.log('identity');", r.text(), "precompressed: false");
        assertNull(r.header("vary"));
    }

    @Test
    void singlePageAppFallback() throws Exception {
        Resp r = get("/app/settings/profile", "Accept: text/html,application/xhtml+xml");
        assertEquals(200, r.status());
        assertEquals("<h1>home</h1>", r.text());
        assertEquals(404, get("/app/missing.js", "Accept: text/html").status(), "a name with an extension");
        assertEquals(404, get("/app/settings", "Accept: application/json").status(), "not a page request");
        assertEquals("hello, world\n", get("/app/hello.txt").text());
        assertEquals(404, get("/settings", "Accept: text/html").status(), "no fallback on that route");
    }

    @Test
    void noPathLeavesTheRoot() throws Exception {
        for (String path : List.of("/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                "/sub/%2e%2e/%2e%2e/secret.txt", "/sub%2F..%2F..%2Fsecret.txt", "/sub%2f..%2fhello.txt",
                "/sub%5C..%5Chello.txt", "/sub\\..\\hello.txt", "/hello.txt%00.html", "/%00", "/.%2e/secret.txt",
                "/evil.txt", "/evildir/x.txt", "/evildir/", "/%zz", "/%c0%ae%c0%ae/secret.txt")) {
            Resp r = get(path);
            assertTrue(r.status() == 400 || r.status() == 404, path + " -> " + r.status());
            assertFalse(r.text().contains("TOP-SECRET"), path);
            assertTrue(r.header("content-type").startsWith("application/json"), path);
        }
        Resp alias = get("/alias.txt");
        assertEquals(200, alias.status(), "a symlink inside the root");
        assertEquals("hello, world\n", alias.text());
        assertEquals("hello, world\n", get("/%68ello.txt").text(), "percent-decoding once");
    }

    @Test
    void hiddenFilesAre404() throws Exception {
        assertEquals(404, get("/.env").status());
        assertEquals(404, get("/.git/config").status());
        assertEquals(404, get("/%2eenv").status());
        assertEquals(404, get("/sub/.hidden").status());
    }

    @Test
    void headAndOtherMethods() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Resp h = read(c, true);
            assertEquals(200, h.status());
            assertEquals("13", h.header("content-length"));
            c.get("/style.css"); // same connection: the HEAD answer had no body
            assertEquals("body{}", read(c, false).text());
            c.post("/hello.txt", "{}");
            Resp post = read(c, false);
            assertEquals(405, post.status());
            assertEquals("GET, HEAD", post.header("allow"));
            assertTrue(post.text().contains("\"error\""));
        }
    }

    @Test
    void largeFileByteForByteOverHttp11AndH2c() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(sluice.uri("/big.bin")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertArrayEquals(BIG, r.body());
        assumeTrue(TestTls.available("curl"), "curl not installed");
        Path out = sluice.dir().resolve("h2c.out");
        TestTls.Result res = TestTls.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-o", out.toString(),
                "-w", "%{http_version} %{http_code}", "http://127.0.0.1:" + sluice.port() + "/big.bin"), Duration.ofSeconds(60));
        assertEquals("2 200", res.out().trim());
        assertArrayEquals(BIG, Files.readAllBytes(out));
        res = TestTls.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-o", out.toString(), "-r", "100-199",
                "-w", "%{http_code}", "http://127.0.0.1:" + sluice.port() + "/big.bin"), Duration.ofSeconds(60));
        assertEquals("206", res.out().trim());
        assertArrayEquals(Arrays.copyOfRange(BIG, 100, 200), Files.readAllBytes(out));
        res = TestTls.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-I", "http://127.0.0.1:" + sluice.port()
                + "/big.bin"), Duration.ofSeconds(30));
        assertTrue(res.out().startsWith("HTTP/2 200"), res.out());
        assertTrue(res.out().contains("content-length: " + BIG.length), res.out());
        String etag = get("/big.bin", "Range: bytes=0-0").header("etag");
        res = TestTls.run(List.of("curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                "-H", "If-None-Match: " + etag, "http://127.0.0.1:" + sluice.port() + "/big.bin"), Duration.ofSeconds(30));
        assertEquals("304", res.out().trim());
    }

    @Test
    void clientLeavingMidFileLeavesNoOpenFile() throws Exception {
        Path huge = sluice.dir().resolve("public/huge.bin").toRealPath();
        for (int i = 0; i < 3; i++) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                c.get("/huge.bin");
                assertEquals(200, c.readHead().status());
                c.socket.getInputStream().readNBytes(256 << 10);
            }
        }
        if (TestTls.available("curl")) { // h2c: curl gives up after a second, mid-file
            TestTls.run(List.of("curl", "-sS", "--http2-prior-knowledge", "--limit-rate", "200k", "--max-time", "1",
                    "-o", "/dev/null", "http://127.0.0.1:" + sluice.port() + "/huge.bin"), Duration.ofSeconds(30));
        }
        Await.until("no open descriptor of huge.bin", Duration.ofSeconds(20), () -> openDescriptors(huge) == 0);
        assertEquals(200, get("/hello.txt").status());
    }

    @Test
    void aSlowDownloadIsNotAnIdleConnection() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port("slow"))) {
            c.socket.setReceiveBufferSize(64 << 10);
            c.get("/huge.bin");
            RawHttp.Head h = c.readHead();
            assertEquals(200, h.status());
            InputStream in = c.socket.getInputStream();
            byte[] first = in.readNBytes(1 << 20);
            // The client stops reading for longer than the listener's idle timeout: socket buffers fill and
            // the transfer stalls; the exchange is still in progress, so the connection must not be closed.
            Thread.sleep(2500);
            byte[] rest = in.readNBytes(HUGE.length - first.length);
            assertEquals(HUGE.length - first.length, rest.length, "the download was cut off");
            assertArrayEquals(Arrays.copyOfRange(HUGE, first.length, HUGE.length), rest);
            assertArrayEquals(Arrays.copyOfRange(HUGE, 0, first.length), first);
        }
    }

    /** Descriptors of this process (Sluice runs in the test's JVM) open on {@code file}. */
    static long openDescriptors(Path file) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

}
