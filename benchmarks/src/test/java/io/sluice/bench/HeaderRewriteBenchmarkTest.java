package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** Keeps the header microbenchmark honest: each operation does the rewriting it claims to measure. */
class HeaderRewriteBenchmarkTest {
    private final HeaderRewriteBenchmark b = new HeaderRewriteBenchmark();

    @Test
    void requestOperationRewritesForTheUpstreamHop() {
        HttpHeaders h = b.requestToUpstream();
        assertFalse(h.contains("connection"));
        assertEquals("203.0.113.7", h.get("x-forwarded-for"));
        assertEquals("gateway.example.com", h.get("x-forwarded-host"));
        assertEquals("1.1 sluice", h.get("via"));
        assertEquals("203.0.113.7", h.get("x-real-ip"));
        assertEquals(b.copyOnly().size() + 4, h.size()); // - connection + x-forwarded-for, -proto, -host, x-real-ip, via
    }

    @Test
    void responseOperationRewritesForTheClientHop() {
        HttpHeaders h = b.responseToClient();
        assertEquals("chunked", h.get("transfer-encoding"));
        assertEquals("1.1 sluice", h.get("via"));
    }
}
