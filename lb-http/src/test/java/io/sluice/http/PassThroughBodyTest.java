package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A response body from an HTTP/1.1 backend to an HTTP/1.1 client passes through as the backend framed
 * it (no decoding into parts and framing again): the client gets the backend's chunks byte for byte,
 * ended by {@code 0\r\n\r\n} without the backend's trailers, and both connections are reused
 * afterwards. Where the bytes cannot pass (an HTTP/1.0 client), the body is decoded as before; a
 * backend that dies mid-body cuts the client off, with an error event only where one fits between chunks.
 */
class PassThroughBodyTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .yaml("""
                    listeners: [ { host: 127.0.0.1, port: 0, http2: { enabled: false }, routes: [ { path: /v1/, pool: p } ] } ]
                    admin: { scrape-interval: 0s }
                    pools:
                      p:
                        health: { enabled: false }
                        outlier: { enabled: false }
                        retries: { attempts: 0 }
                        backends: [ { url: "http://127.0.0.1:${REC}" } ]
                    """)
            .build();

    private static final String SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    /** Chunks the decoding path would have framed again differently: extensions, upper-case and padded sizes, 100 KB in one. */
    private static final String BIG = "x".repeat(100_000);
    private static final String CHUNKS = "000B;x=1\r\ndata: abc\n\n\r\n" + Integer.toHexString(BIG.length()).toUpperCase()
            + "\r\n" + BIG + "\r\n";

    private static RecordingBackend backend() {
        return sluice.backend("REC");
    }

    @AfterEach
    void reset() {
        backend().respond = RecordingBackend::echo;
        backend().closeAfterAnswer = false;
    }

    private static void respond(String raw) {
        backend().respondExceptGood(raw);
    }

    private static RecordingBackend.Request last(String target) {
        return backend().last(target);
    }

    @Test
    void chunksReachTheClientAsTheBackendSentThemAndBothConnectionsStay() throws Exception {
        respond(SSE_HEAD + CHUNKS + "0;last=1\r\nx-trailer: dropped\r\n\r\n");
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Head head = c.get("/v1/stream").readHead();
            assertEquals(200, head.status());
            assertEquals("chunked", head.header("transfer-encoding"));
            String expected = CHUNKS + "0\r\n\r\n";
            assertEquals(expected, new String(c.readBytes(expected.length()), StandardCharsets.ISO_8859_1));
            // The client connection is ready for the next request: nothing was left half-framed.
            RawHttp.Response next = c.get("/v1/good", "X-Case: good").exchange();
            assertEquals(200, next.status());
            assertTrue(next.body().text().contains("\"case\":\"good\""), next.body().text());
        }
        // The gateway found the body's end, so the backend connection went back to the pool and was used again.
        assertEquals(last("/v1/stream").connection(), last("/v1/good").connection());
    }

    @Test
    void aCountedBodyPassesToo() throws Exception {
        respond("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + BIG.length() + "\r\n\r\n" + BIG);
        try (RawHttp c = new RawHttp(sluice.port())) {
            for (int i = 0; i < 2; i++) {
                RawHttp.Response r = c.get("/v1/counted").exchange();
                assertEquals(200, r.status());
                assertEquals(BIG, r.body().text());
                assertTrue(r.body().complete());
            }
        }
        List<RecordingBackend.Request> counted = backend().recorded().stream()
                .filter(r -> r.target().equals("/v1/counted")).toList();
        assertEquals(counted.get(0).connection(), counted.get(1).connection());
    }

    @Test
    void anHttp10ClientGetsTheBodyDecoded() throws Exception {
        respond(SSE_HEAD + CHUNKS + "0\r\n\r\n");
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("GET /v1/old HTTP/1.0\r\nHost: localhost\r\n\r\n");
            RawHttp.Head head = c.readHead();
            assertEquals(200, head.status());
            assertNull(head.header("transfer-encoding"), "HTTP/1.0 has no chunked framing");
            String body = new String(c.socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertEquals("data: abc\n\n" + BIG, body);
        }
    }

    @Test
    void aBackendDyingInsideAChunkCutsTheClientOffWithoutAnEvent() throws Exception {
        respond(SSE_HEAD + "000B\r\ndata: abc\n\n\r\n000B\r\ndata: d");
        backend().closeAfterAnswer = true;
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/cut").exchange();
            assertEquals(200, r.status());
            assertFalse(r.body().complete(), "the client must see the body cut off");
            assertEquals("data: abc\n\n", r.body().chunks().get(0).text());
            assertEquals(1, r.body().chunks().size(), "nothing is inserted into a chunk");
            InputStream in = c.socket.getInputStream();
            assertEquals(-1, in.read(), "the connection is closed");
        }
    }

    @Test
    void aBackendDyingBetweenChunksEndsWithAnErrorEvent() throws Exception {
        respond(SSE_HEAD + "000B\r\ndata: abc\n\n\r\n");
        backend().closeAfterAnswer = true;
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/cut").exchange();
            assertEquals(200, r.status());
            assertFalse(r.body().complete());
            List<String> events = r.body().events();
            assertEquals(2, events.size(), events.toString());
            assertEquals("abc", events.get(0));
            assertTrue(events.get(1).contains("\"type\":\"gateway_error\""), events.get(1));
        }
    }
}
