package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Nothing a client does can pin a descriptor or a buffer forever: silent connections, partial
 * prefaces, trickled heads and bodies are all timed out, and the head timeout never cuts a response
 * that is still streaming.
 */
class StallTest {

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - name: main
                host: 127.0.0.1
                port: 0
                header-timeout: 400ms
                body-timeout: 400ms
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
              - { name: redirect, host: 127.0.0.1, port: 0, redirect-to-https: 8443, header-timeout: 400ms }
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            admin: { scrape-interval: 0s }
            """, SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(60)).build());

    /** Sends {@code bytes} and waits for the server to close: true if it did within 10 s. */
    private static boolean closedBySluice(int port, String bytes) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            if (!bytes.isEmpty()) {
                s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
            InputStream in = s.getInputStream();
            try {
                while (in.read() != -1) {
                    // whatever it answers, it must then close
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }
    }

    @Test
    void silentConnectionIsClosed() throws Exception {
        assertTrue(closedBySluice(sluice.server().port("main"), ""), "a connection that never sends a byte");
    }

    @Test
    void partialH2cPrefaceIsClosed() throws Exception {
        assertTrue(closedBySluice(sluice.server().port("main"), "PRI * HTTP/2.0\r\n"), "half a preface");
    }

    @Test
    void redirectListenerTimesOutSilentAndSlowClients() throws Exception {
        int port = sluice.server().port("redirect");
        assertTrue(closedBySluice(port, ""), "silent");
        assertTrue(closedBySluice(port, "GET / HTTP/1.1\r\nHost: x\r\n"), "a head that never ends");
    }

    @Test
    void trickledBodyGets408AndClose() throws Exception {
        for (String path : new String[] {"/v1/chat/completions", "/api/v1/backends"}) {
            try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
                c.sendRaw("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000\r\n\r\n{\"model\":");
                RawHttp.Response r = c.exchange();
                assertEquals(408, r.status(), path);
                assertEquals("body_timeout", r.header("x-sluice-error"), path);
                assertEquals(-1, c.socket.getInputStream().read(), path + ": closed");
            }
        }
    }

    @Test
    void trickledBodyOnAnHttp2StreamGets408() throws Exception {
        try (H2Client h2 = new H2Client(sluice.server().port("main"), 65535)) {
            H2Client.Stream s = h2.postPartial("/v1/chat/completions", 1000, "{\"model\":");
            assertTrue(s.awaitEnd(10), "answered");
            assertEquals(408, s.status);
        }
    }

    @Test
    void strayBytesAfterABodyDoNotCutTheStreamingResponse() throws Exception {
        // 20 tokens at 60 ms: the answer streams for well over the 400 ms head timeout.
        String body = RawHttp.chatBody("demo", true, 20);
        try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
            c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttp.Head head = c.readHead();
            c.sendRaw("\r\n"); // a stray CRLF, read while the answer streams
            RawHttp.Response r = new RawHttp.Response(head, c.readBody(head));
            assertEquals(200, r.status());
            assertTrue(r.body().complete(), "the stream ended with its terminating chunk");
            assertTrue(r.body().text().contains("[DONE]"));
        }
    }

    @Test
    void pipelinedRequestBehindAStreamIsAnsweredAfterIt() throws Exception {
        String body = RawHttp.chatBody("demo", true, 15);
        try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
            c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttp.Head head = c.readHead();
            c.sendRaw("GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"); // held until the stream has ended
            assertTrue(c.readBody(head).complete(), "the stream was not cut by the held request's head timeout");
            assertEquals(200, c.exchange().status());
        }
    }

    @Test
    void keepAliveWorksAfterALargeBodyWhoseLastSegmentFillsTheUpstreamBuffer() throws Exception {
        String content = "a".repeat(300_000);
        String body = "{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"max_tokens\":2}";
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
            OutputStream out = c.socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes, 0, bytes.length - 65536);
            out.flush();
            Thread.sleep(100); // shapes the traffic: the final 64 KiB arrive as one segment of their own
            out.write(bytes, bytes.length - 65536, 65536);
            out.flush();
            assertEquals(200, c.exchange().status());
            c.socket.setSoTimeout(5000);
            assertEquals(200, c.get("/v1/models").exchange().status(), "the next request on the connection is read");
        }
    }

    @Test
    void expectContinueIsAnswered() throws Exception {
        String body = RawHttp.chatBody("demo", false, 2);
        try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
            c.socket.setSoTimeout(5000);
            c.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: " + body.length() + "\r\n\r\n");
            RawHttp.Head cont = c.readHead();
            assertEquals(100, cont.status(), "100 Continue before the body is sent");
            c.sendRaw(body);
            assertEquals(200, c.exchange().status());
        }
    }

    @Test
    void pipelinedRequestsAreBounded() throws Exception {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            many.append("GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }
        try (RawHttp c = new RawHttp(sluice.server().port("main"))) {
            c.socket.setSoTimeout(10_000);
            c.sendRaw(many.toString());
            int answered = 0;
            try {
                while (true) {
                    assertEquals(200, c.exchange().status());
                    answered++;
                }
            } catch (IOException closed) {
                // the connection was closed after the bounded set
            }
            assertTrue(answered >= 1 && answered <= 20, "answered " + answered + " of 60 pipelined requests");
        }
    }
}
