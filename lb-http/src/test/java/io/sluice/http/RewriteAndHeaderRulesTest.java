package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Path rewrites and header rules, seen from both ends: what the backend received, what the client got. */
class RewriteAndHeaderRulesTest {
    static final String YAML = """
            listeners:
              - host: 127.0.0.1
                port: 0
                routes:
                  - path: /api/dce/proxy
                    pool: rec
                    prefix-rewrite: /v1/chat/completions
                  - path: /api/vllm/
                    pool: rec
                    prefix-rewrite: /
                    headers:
                      request: { set: { X-Team: "${TEAM}" }, remove: [ X-Debug ] }
                      response: { set: { Cache-Control: no-store }, remove: [ x-case ] }
                  - path: /
                    pool: rec
            pools:
              rec:
                headers:
                  request: { add: { X-Pool: rec } }
                  response: { set: { X-Served-By: POOL_VALUE } }
                backends: [ { url: "http://127.0.0.1:${REC}" } ]
            """;

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("REC", RecordingBackend::new, RecordingBackend::port)
            .env("TEAM", "ml")
            .yaml(YAML.replace("POOL_VALUE", "rec-pool"))
            .build();

    private RecordingBackend backend() {
        return sluice.backend("REC");
    }

    @BeforeEach
    void clear() {
        backend().requests.clear();
    }

    private RecordingBackend.Request only() {
        List<RecordingBackend.Request> got = proxied(backend());
        assertEquals(1, got.size(), got.toString());
        return got.get(0);
    }

    @Test
    void aRoutePrefixIsReplacedAndTheQueryKept() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            RawHttp.Response r = c.post("/api/dce/proxy?trace=1", RawHttp.chatBody("m", false, 4), "X-Case: dce").exchange();
            assertEquals(200, r.status());
        }
        assertEquals("/v1/chat/completions?trace=1", only().target());
    }

    @Test
    void aStrippedPrefixAndTheRouteAndPoolHeaderRules() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/api/vllm/v1/models", "X-Debug: secret", "X-Team: spoofed", "X-Case: vllm").exchange();
        }
        assertEquals(200, r.status());
        RecordingBackend.Request got = only();
        assertEquals("/v1/models", got.target());
        assertEquals("ml", got.header("x-team"), "set replaces the client's value, ${TEAM} expanded");
        assertNull(got.header("x-debug"), "removed before the upstream");
        assertEquals("rec", got.header("x-pool"), "the pool's rule applies too");
        assertEquals("no-store", r.header("cache-control"));
        assertNull(r.header("x-case"), "removed from the response");
        assertEquals("rec-pool", r.header("x-served-by"));
    }

    @Test
    void anotherRouteGetsOnlyThePoolRules() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/v1/models", "X-Debug: kept", "X-Case: plain").exchange();
        }
        RecordingBackend.Request got = only();
        assertEquals("/v1/models", got.target());
        assertEquals("kept", got.header("x-debug"));
        assertNull(got.header("x-team"));
        assertEquals("rec", got.header("x-pool"));
        assertEquals("plain", r.header("x-case"));
        assertEquals("rec-pool", r.header("x-served-by"));
    }

    @Test
    void gatewayErrorsOnTheRouteGetTheResponseRulesToo() throws Exception {
        RawHttp.Response r;
        backend().respond = req -> "/health".equals(req.target()) ? RecordingBackend.echo(req) // health checks stay green
                : "HTTP/1.1 999 Nonsense\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.get("/api/vllm/x").exchange();
        } finally {
            backend().respond = RecordingBackend::echo;
        }
        assertEquals(502, r.status());
        assertEquals("upstream_bad_response", r.header("x-sluice-error"));
        assertEquals("no-store", r.header("cache-control"), "Sluice's own answer on the route gets its response rules");
        assertEquals("rec-pool", r.header("x-served-by"));
    }

    @Test
    void aReloadChangesRewritesAndRules() throws Exception {
        String next = YAML.replace("POOL_VALUE", "rec-pool-2").replace("prefix-rewrite: /v1/chat/completions", "prefix-rewrite: /v2/chat");
        sluice.reload(next);
        try {
            RawHttp.Response r;
            try (RawHttp c = new RawHttp(sluice.port())) {
                r = c.post("/api/dce/proxy", RawHttp.chatBody("m", false, 4)).exchange();
            }
            assertEquals("/v2/chat", only().target());
            assertEquals("rec-pool-2", r.header("x-served-by"));
        } finally {
            sluice.reload(YAML.replace("POOL_VALUE", "rec-pool"));
        }
    }

    /** What came through Sluice's proxy (it adds Via), not its health checks or its metrics scraper. */
    static List<RecordingBackend.Request> proxied(RecordingBackend b) {
        return b.recorded().stream().filter(r -> r.header("via") != null).toList();
    }
}
