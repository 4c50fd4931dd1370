package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sluice.core.observe.Exchange;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sluice is the edge: a client cannot tell the backend (or the rate limiter, or the access log) that
 * it is someone else, unless it is one of the listener's trusted proxies.
 */
class ForwardedHeadersTest {
    static final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("ECHO", HeadersTest.CapturingBackend::new, HeadersTest.CapturingBackend::port)
            .observer(exchanges::add)
            .yaml("""
                    listeners:
                      - name: edge
                        port: 0
                        host: 127.0.0.1
                        routes: [ { path: /, pool: echo } ]
                      - name: behind
                        port: 0
                        host: 127.0.0.1
                        trusted-proxies: [ 127.0.0.1/32, 10.0.0.0/8 ]
                        rate-limits: { per-ip: { requests-per-minute: 1 } }
                        routes: [ { path: /, pool: echo } ]
                    pools:
                      echo:
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${ECHO}" } ]
                    admin: { scrape-interval: 0 }   # the capturing backend must see only the test's requests
                    """)
            .build();

    static HeadersTest.CapturingBackend backend() {
        return sluice.backend("ECHO");
    }

    @BeforeEach
    void clear() {
        backend().requests.clear();
        exchanges.clear();
    }

    static RawHttp.Response get(String listener, String... headers) throws IOException {
        try (RawHttp c = new RawHttp(sluice.server().port(listener))) {
            return c.get("/v1/models", headers).exchange();
        }
    }

    @Test
    void anUntrustedPeersForwardingHeadersAreReplaced() throws Exception {
        RawHttp.Response r = get("edge",
                "X-Forwarded-For: 203.0.113.7",
                "X-Forwarded-For: 198.51.100.1",
                "X-Forwarded-Host: evil.example",
                "X-Forwarded-Proto: https",
                "Forwarded: for=192.0.2.60;proto=https",
                "X-Real-IP: 203.0.113.8");
        assertEquals(200, r.status());
        Map<String, String> up = backend().requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(up);
        assertEquals("127.0.0.1", up.get("x-forwarded-for"), up.toString());
        assertEquals("http", up.get("x-forwarded-proto"));
        assertEquals("localhost", up.get("x-forwarded-host"));
        assertNull(up.get("forwarded"));
        assertEquals("127.0.0.1", up.get("x-real-ip"));
        assertEquals("127.0.0.1", exchanges.poll(5, TimeUnit.SECONDS).clientIp, "the access log's client_ip");
    }

    @Test
    void aTrustedProxysChainIsKeptAndItsClientIsTheRightmostUntrustedHop() throws Exception {
        RawHttp.Response r = get("behind",
                "X-Forwarded-For: 198.51.100.1, 203.0.113.7",
                "X-Forwarded-For: 10.1.2.3",   // a second internal proxy: trusted, so skipped
                "X-Forwarded-Proto: https",
                "Forwarded: for=203.0.113.7");
        assertEquals(200, r.status());
        Map<String, String> up = backend().requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(up);
        assertEquals("198.51.100.1, 203.0.113.7, 10.1.2.3, 127.0.0.1", up.get("x-forwarded-for"), up.toString());
        assertEquals("https", up.get("x-forwarded-proto"), "the proxy in front saw the client's scheme");
        assertEquals("for=203.0.113.7", up.get("forwarded"));
        assertEquals("203.0.113.7", up.get("x-real-ip"));
        assertEquals("203.0.113.7", exchanges.poll(5, TimeUnit.SECONDS).clientIp);

        // Garbage in the chain: nothing left of it can be placed, so the client is the proxy itself.
        get("behind", "X-Forwarded-For: 198.51.100.9, not-an-address");
        assertEquals("127.0.0.1", exchanges.poll(5, TimeUnit.SECONDS).clientIp);
    }

    @Test
    void behindATrustedProxyPerIpLimitsKeyOnTheForwardedClient() throws Exception {
        assertEquals(200, get("behind", "X-Forwarded-For: 192.0.2.10").status());
        RawHttp.Response again = get("behind", "X-Forwarded-For: 192.0.2.10");
        assertEquals(429, again.status(), "one request a minute for 192.0.2.10");
        assertEquals("rate_limit_exceeded", again.header("x-sluice-error"));
        assertEquals(200, get("behind", "X-Forwarded-For: 192.0.2.11").status(), "another client, another bucket");
    }
}
