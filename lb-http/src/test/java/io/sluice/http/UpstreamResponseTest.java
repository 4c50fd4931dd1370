package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An upstream response that is not what it claims: a bad head is a 502 from Sluice, a bad body an
 * abnormal end for the client (as when a backend dies), and that connection is never used again.
 */
class UpstreamResponseTest {
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

    private static RecordingBackend backend() {
        return sluice.backend("REC");
    }

    private static void respond(String raw) {
        backend().respondExceptGood(raw);
    }

    /** The connection that carried the bad answer is never used again. */
    private static void assertNotReused(int ignored) throws Exception {
        int bad = last("/v1/bad").connection();
        for (int i = 0; i < 3; i++) { // every idle pooled connection gets a chance to be picked
            try (RawHttp c = new RawHttp(sluice.port())) {
                assertEquals(200, c.get("/v1/good", "X-Case: good").exchange().status());
            }
            assertTrue(last("/v1/good").connection() != bad, "the bad connection was pooled and reused");
        }
    }

    private static RecordingBackend.Request last(String target) {
        return backend().last(target);
    }

    @Test
    void malformedChunkEndsTheClientResponseAbnormally() throws Exception {
        respond("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
                + "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        int before = backend().connectionsOpened();
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.get("/v1/bad").exchange();
            assertEquals(200, r.status());
            assertFalse(r.body().complete(), "the client must see the body cut off, not a clean end");
        }
        assertNotReused(before);
    }

    @Test
    void malformedStatusLineIs502() throws Exception {
        for (String head : new String[] {"HTTP/1.1 abc Nope\r\n\r\n", "HTTP/1.1 999 Weird\r\ncontent-length: 0\r\n\r\n",
            "garbage\r\n\r\n", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"}) {
            respond(head);
            int before = backend().connectionsOpened();
            try (RawHttp c = new RawHttp(sluice.port())) {
                RawHttp.Response r = c.get("/v1/bad").exchange();
                assertEquals(502, r.status(), head);
                assertEquals("upstream_bad_response", r.header("x-sluice-error"), head);
            }
            assertNotReused(before);
        }
    }
}
