package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hop-by-hop headers stay on their hop; the backend learns who asked; every request has an id. */
class HeadersTest {

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("ECHO", CapturingBackend::new, CapturingBackend::port)
            .yaml("""
                    listeners:
                      - port: 0
                        host: 127.0.0.1
                        routes: [ { path: /, pool: echo } ]
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${ECHO}" } ]
                    admin: { scrape-interval: 0 }   # the capturing backend must see only the test's requests
                    """)
            .build();

    static CapturingBackend backend() {
        return sluice.backend("ECHO");
    }

    @Test
    void hopByHopHeadersAreRemovedAndForwardingHeadersAdded() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/models",
                    "Connection: keep-alive, X-Hop-Secret",
                    "X-Hop-Secret: 1",
                    "Keep-Alive: timeout=300",
                    "Proxy-Authorization: Basic Zm9vOmJhcg==",
                    "X-Forwarded-For: 203.0.113.7",
                    "X-Request-Id: req-42").exchange();
            assertEquals(200, r.status());
            Map<String, String> up = backend().requests.poll(5, TimeUnit.SECONDS);
            assertNotNull(up);
            assertNull(up.get("x-hop-secret"));
            assertNull(up.get("keep-alive"));
            assertNull(up.get("proxy-authorization"));
            assertFalse("close".equalsIgnoreCase(up.get("connection")));
            assertEquals("127.0.0.1", up.get("x-forwarded-for"), "a client cannot forge its address: Sluice is the edge");
            assertEquals("http", up.get("x-forwarded-proto"));
            assertEquals("localhost", up.get("x-forwarded-host"));
            assertEquals("1.1 sluice", up.get("via"));
            assertEquals("req-42", up.get("x-request-id"));

            assertNull(r.header("keep-alive"), "the backend's Keep-Alive is for its own hop");
            assertNull(r.header("x-backend-hop"));
            assertEquals("yes", r.header("x-upstream"));
            assertEquals("1.1 sluice", r.header("via"));
            assertEquals("req-42", r.header("x-request-id"));
        }
    }

    @Test
    void aRequestIdIsMadeWhenTheClientSentNone() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/models").exchange();
            Map<String, String> up = backend().requests.poll(5, TimeUnit.SECONDS);
            String id = r.header("x-request-id");
            assertNotNull(id);
            assertTrue(id.length() >= 16, id);
            assertEquals(id, up.get("x-request-id"));
        }
    }

    /** A minimal HTTP/1.1 backend that records each request's headers and answers 200. */
    static final class CapturingBackend implements AutoCloseable {
        final BlockingQueue<Map<String, String>> requests = new LinkedBlockingQueue<>();
        private final ServerSocket server;

        CapturingBackend() {
            try {
                server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Thread t = new Thread(this::acceptLoop, "capturing-backend");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s), "capturing-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1))) {
                OutputStream out = s.getOutputStream();
                String requestLine;
                while ((requestLine = in.readLine()) != null) {
                    Map<String, String> headers = new LinkedHashMap<>();
                    String l;
                    while ((l = in.readLine()) != null && !l.isEmpty()) {
                        int c = l.indexOf(':');
                        headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
                    }
                    requests.add(headers);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Backend-Hop\r\n"
                            + "X-Backend-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Upstream: yes\r\n\r\nok")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException ignored) {
                // connection closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
