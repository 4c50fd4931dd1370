package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A plain listener that only redirects to HTTPS (ACME challenges are covered by AcmeTest). */
class RedirectTest {
    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - { name: http, host: 127.0.0.1, port: 0, redirect-to-https: 8443 }
            """);

    @Test
    void permanentRedirectKeepsHostPathAndQuery() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 2\r\n\r\n{}");
            RawHttp.Head head = c.readHead();
            assertEquals(308, head.status());
            assertEquals("https://example.com:8443/v1/chat/completions?x=1", head.header("location"));
            c.readBody(head);
            // keep-alive: a second request on the same connection
            c.get("/", "X-Any: 1");
            RawHttp.Head second = c.readHead();
            assertEquals(308, second.status());
            assertEquals("https://localhost:8443/", second.header("location"));
        }
    }

    @Test
    void ipv6HostAndMissingHost() throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw("GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
            RawHttp.Head head = c.readHead();
            assertEquals("https://[::1]:8443/a", head.header("location"));
            c.readBody(head);
            c.sendRaw("GET /a HTTP/1.0\r\n\r\n");
            assertEquals(400, c.readHead().status());
        }
    }
}
