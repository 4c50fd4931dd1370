package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sluice.sim.SimulatorOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Loopback trust is a local process's, not a browser's: a page the operator opens can neither post
 * to the admin API (CSRF) nor read it through a rebound domain name, and the proxied routes' CORS
 * rules never extend to admin routes. Every refusal is decided at the head.
 */
class AdminBrowserSafetyTest {
    static final String TOKEN = "browser-safety-token-0123456789";
    static final String ADD = "{\"pool\":\"vllm\",\"url\":\"http://127.0.0.1:9\",\"name\":\"evil\"}";

    @RegisterExtension
    static final SluiceExtension sluice = new SluiceExtension("""
            listeners:
              - port: 0
                host: 127.0.0.1
                cors: { origins: [ "https://app.example" ] }
                routes: [ { path: /v1/, pool: vllm }, { path: /api/, admin: true } ]
            pools:
              vllm:
                backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
            admin: { token: "%s", allowed-hosts: [ sluice.internal ] }
            """.formatted(TOKEN), SimulatorOptions.defaults());

    private static RawHttp.Response raw(String request) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.sendRaw(request);
            return c.exchange();
        }
    }

    private static boolean evilAdded() {
        return sluice.server().upstreams().pool("vllm").backends().stream().anyMatch(b -> b.id().equals("evil"));
    }

    @Test
    void crossSiteFormPostIsRefused() throws Exception {
        // What <form enctype="text/plain"> or fetch(no-cors) sends: no preflight happens for it.
        RawHttp.Response r = raw("POST /api/v1/backends HTTP/1.1\r\nHost: 127.0.0.1:" + sluice.port()
                + "\r\nOrigin: http://attacker.example\r\nContent-Type: text/plain\r\nContent-Length: " + ADD.length()
                + "\r\n\r\n" + ADD);
        assertEquals(403, r.status(), r.body().text());
        assertEquals("cross_site_request", r.header("x-sluice-error"));
        r = raw("POST /api/v1/backends HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: cross-site\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + ADD.length() + "\r\n\r\n" + ADD);
        assertEquals(403, r.status());
        assertEquals(false, evilAdded());
    }

    @Test
    void adminBodiesMustBeJson() throws Exception {
        RawHttp.Response r = raw("POST /api/v1/backends HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                + "Content-Length: " + ADD.length() + "\r\n\r\n" + ADD);
        assertEquals(415, r.status());
        assertEquals("unsupported_media_type", r.header("x-sluice-error"));
        r = raw("POST /api/v1/backends/x/drain HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n");
        assertEquals(415, r.status(), "a form post, even empty, is not an API call");
        assertEquals(false, evilAdded());
    }

    @Test
    void dnsRebindingCannotReadTheApi() throws Exception {
        RawHttp.Response r = raw("GET /api/v1/status HTTP/1.1\r\nHost: rebind.attacker.example\r\n\r\n");
        assertEquals(403, r.status());
        assertEquals("host_not_allowed", r.header("x-sluice-error"));
        assertEquals(403, raw("GET /api/v1/status HTTP/1.1\r\nHost: rebind.attacker.example:" + sluice.port()
                + "\r\n\r\n").status());
        for (String host : new String[] {"localhost", "localhost:" + sluice.port(), "127.0.0.1", "127.0.0.2:80",
            "[::1]:" + sluice.port(), "Sluice.Internal"}) {
            assertEquals(200, raw("GET /api/v1/status HTTP/1.1\r\nHost: " + host + "\r\n\r\n").status(), host);
        }
        // The token is not a browser's ambient credential: with it, any Host may be used.
        assertEquals(200, raw("GET /api/v1/status HTTP/1.1\r\nHost: gateway.example\r\nAuthorization: Bearer "
                + TOKEN + "\r\n\r\n").status());
        // A page served by this listener itself (the dashboard) is same-origin.
        assertEquals(200, raw("GET /api/v1/status HTTP/1.1\r\nHost: localhost:" + sluice.port()
                + "\r\nOrigin: http://localhost:" + sluice.port() + "\r\nSec-Fetch-Site: same-origin\r\n\r\n").status());
    }

    @Test
    void proxiedCorsRulesDoNotOpenAdminRoutes() throws Exception {
        RawHttp.Response pre = raw("OPTIONS /api/v1/backends HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\n"
                + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n");
        assertEquals(403, pre.status());
        assertNull(pre.header("access-control-allow-origin"));
        RawHttp.Response get = raw("GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\n\r\n");
        assertEquals(403, get.status());
        assertNull(get.header("access-control-allow-origin"));
        // The proxied routes keep their CORS.
        RawHttp.Response v1 = raw("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\n"
                + "Access-Control-Request-Method: POST\r\n\r\n");
        assertEquals(204, v1.status());
        assertEquals("https://app.example", v1.header("access-control-allow-origin"));
    }

    @Test
    void refusalIsDecidedAtTheHeadWithoutReadingTheBody() throws Exception {
        // 900 KB announced, none sent: the answer must come without Sluice waiting for (or buffering) it.
        try (RawHttp c = new RawHttp(sluice.port())) {
            c.socket.setSoTimeout(5000);
            c.sendRaw("POST /api/v1/backends HTTP/1.1\r\nHost: rebind.attacker.example\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n{");
            RawHttp.Response r = c.exchange();
            assertEquals(403, r.status());
        }
    }
}
