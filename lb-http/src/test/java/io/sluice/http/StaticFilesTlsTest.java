package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@code static:} target over TLS: HTTP/1.1 and HTTP/2 (ALPN) get the file in 64 KiB reads, byte for byte. */
class StaticFilesTlsTest {
    static final byte[] BIG = StaticFilesTest.random(5 << 20, 3);
    static final byte[] HUGE = StaticFilesTest.random(40 << 20, 4);

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .files(dir -> {
                Path pub = Files.createDirectories(dir.resolve("public"));
                Files.write(pub.resolve("big.bin"), BIG);
                Files.write(pub.resolve("huge.bin"), HUGE);
                Files.writeString(pub.resolve("index.html"), "<h1>tls</h1>");
            })
            .yaml("""
                    listeners:
                      - name: tls
                        host: 127.0.0.1
                        port: 0
                        tls: { self-signed: true }
                        routes:
                          - { path: /, static: "${DIR}/public" }
                    """)
            .build();

    static HttpRequest get(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + sluice.port() + path))
                .timeout(Duration.ofSeconds(60));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    @Test
    void wholeFilesAndRangesOverHttp11AndHttp2() throws Exception {
        for (HttpClient.Version v : HttpClient.Version.values()) {
            HttpClient c = TestTls.client(v);
            HttpResponse<byte[]> r = c.send(get("/big.bin"), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertEquals(v, r.version());
            assertArrayEquals(BIG, r.body(), v.toString());
            r = c.send(get("/big.bin", "Range", "bytes=1000000-3000000"), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(206, r.statusCode());
            assertArrayEquals(Arrays.copyOfRange(BIG, 1_000_000, 3_000_001), r.body(), v.toString());
            HttpResponse<String> index = c.send(get("/"), HttpResponse.BodyHandlers.ofString());
            assertEquals("<h1>tls</h1>", index.body());
        }
    }

    @Test
    void clientLeavingMidFileLeavesNoOpenFileAndNoLeak() throws Exception {
        Path huge = sluice.dir().resolve("public/huge.bin").toRealPath();
        for (HttpClient.Version v : HttpClient.Version.values()) {
            HttpClient c = TestTls.client(v);
            HttpResponse<InputStream> r = c.send(get("/huge.bin"), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            try (InputStream in = r.body()) {
                in.readNBytes(300 << 10); // then the stream is reset (h2) or the connection closed (1.1)
            }
        }
        Await.until("no open descriptor of huge.bin", Duration.ofSeconds(30),
                () -> StaticFilesTest.openDescriptors(huge) == 0);
        HttpResponse<byte[]> after = TestTls.client(HttpClient.Version.HTTP_2).send(get("/big.bin"),
                HttpResponse.BodyHandlers.ofByteArray());
        assertArrayEquals(BIG, after.body());
    }
}
