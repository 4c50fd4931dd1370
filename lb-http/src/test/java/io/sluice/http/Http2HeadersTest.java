package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What an HTTP/1.1 upstream receives for an HTTP/2 request over TLS: a clean 1.1 request, proto https. */
class Http2HeadersTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("UP", () -> {
                ServerSocket s = new ServerSocket();
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                return s;
            }, ServerSocket::getLocalPort)
            .yaml("""
                    admin: { scrape-interval: 0 }   # the raw upstream answers one connection: the proxied request's
                    listeners:
                      - { name: tls, host: 127.0.0.1, port: 0, tls: { self-signed: true }, routes: [{ path: /v1/, pool: up }] }
                    pools:
                      up: { health: { enabled: false }, backends: [{ url: "http://127.0.0.1:${UP}" }] }
                    """)
            .build();

    @Test
    void upstreamSeesAPlainHttp11RequestWithForwardedHeaders() throws Exception {
        ServerSocket upstream = sluice.backend("UP");
        CompletableFuture<String> head = CompletableFuture.supplyAsync(() -> {
            try (Socket s = upstream.accept()) {
                s.setSoTimeout(20_000);
                InputStream in = s.getInputStream();
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                while (!buf.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n") && buf.size() < 65536) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    buf.write(b);
                }
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        .getBytes(StandardCharsets.ISO_8859_1));
                return buf.toString(StandardCharsets.ISO_8859_1);
            } catch (Exception e) {
                return "failed: " + e;
            }
        });
        HttpResponse<String> r = TestTls.client(HttpClient.Version.HTTP_2).send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + sluice.port("tls") + "/v1/models?x=1"))
                .timeout(Duration.ofSeconds(30)).header("x-custom", "1").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertEquals("ok", r.body());
        String h = head.get(30, TimeUnit.SECONDS).toLowerCase(Locale.ROOT);
        assertTrue(h.startsWith("get /v1/models?x=1 http/1.1\r\n"), h);
        assertTrue(h.contains("\r\nhost: localhost:" + sluice.port("tls")), h);
        assertTrue(h.contains("\r\nx-forwarded-proto: https\r\n"), h);
        assertTrue(h.contains("\r\nx-forwarded-for: 127.0.0.1\r\n"), h);
        assertTrue(h.contains("\r\nx-custom: 1\r\n"), h);
        assertFalse(h.contains("x-http2-"), h);
        assertFalse(h.contains("\r\n:"), h);
    }
}
