package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys of TLS, HTTP/2, redirect and access-log, in the style of {@link ConfigLoaderTest}. */
class TlsConfigLoaderTest {
    private static final String POOLS = """
            pools:
              p: { backends: [{ url: "http://127.0.0.1:8001" }] }
            """;

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml + POOLS, "tls.yaml", name -> null);
    }

    private static void assertError(String yaml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().startsWith(expected), () -> "expected: " + expected + "\nbut was:  " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
    }

    @Test
    void fullTlsListener(@TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("a.crt"), "x");
        Path key = Files.writeString(dir.resolve("a.key"), "x");
        SluiceConfig c = parse("""
                access-log: { output: /var/log/sluice.log, queue-size: 1024 }
                listeners:
                  - name: https
                    port: 8443
                    tls:
                      certificates: [{ cert: %s, key: %s }]
                      self-signed: true
                      reload-interval: 1s
                      hsts: 365d
                      acme:
                        directory: https://127.0.0.1:14000/dir
                        email: ops@example.com
                        domains: [example.com, "*.example.org"]
                        storage: /var/lib/sluice
                        renew-before: 10d
                        check-interval: 1m
                        challenge: tls-alpn-01
                    http2: { max-concurrent-streams: 50, initial-window-size: 1MiB, max-header-list-size: 8KiB }
                    routes: [{ path: /, pool: p }]
                  - name: http
                    port: 8080
                    redirect-to-https: 8443
                """.formatted(cert, key));
        ListenerConfig https = c.listeners().get(0);
        assertEquals(new TlsConfig(List.of(new CertificateConfig(cert.toString(), key.toString())), true,
                new AcmeConfig("https://127.0.0.1:14000/dir", "ops@example.com", List.of("example.com", "*.example.org"),
                        "/var/lib/sluice", Duration.ofDays(10), Duration.ofMinutes(1), null, "tls-alpn-01"),
                Duration.ofSeconds(1), Duration.ofDays(365)), https.tls());
        assertEquals(new Http2Config(true, 50, 1024 * 1024, 8192), https.http2());
        assertEquals(0, https.redirectToHttps());
        ListenerConfig http = c.listeners().get(1);
        assertNull(http.tls());
        assertEquals(8443, http.redirectToHttps());
        assertEquals(List.of(), http.routes());
        assertEquals(new AccessLogConfig("/var/log/sluice.log", 1024), c.accessLog());
    }

    @Test
    void defaults() throws Exception {
        SluiceConfig c = parse("""
                access-log:
                listeners:
                  - port: 0
                    tls: { self-signed: true }
                    routes: [{ path: /, pool: p }]
                """);
        TlsConfig t = c.listeners().get(0).tls();
        assertEquals(TlsConfig.DEFAULT_RELOAD, t.reloadInterval());
        assertEquals(Duration.ZERO, t.hsts());
        assertNull(t.acme());
        assertEquals(Http2Config.DEFAULT, c.listeners().get(0).http2());
        assertEquals(new AccessLogConfig("stdout", 65536), c.accessLog());
        assertNull(parse("listeners: [{ port: 0, routes: [{ path: /, pool: p }] }]\n").accessLog());
    }

    @Test
    void http2WebSocketsCanBeTurnedOff() throws Exception {
        SluiceConfig c = parse("listeners: [{ port: 0, http2: { websockets: false }, routes: [{ path: /, pool: p }] }]\n");
        assertFalse(c.listeners().get(0).http2().webSockets());
        assertTrue(Http2Config.DEFAULT.webSockets(), "on by default");
        assertError("listeners: [{ port: 0, http2: { websockets: maybe }, routes: [{ path: /, pool: p }] }]\n",
                "tls.yaml:1:45: listeners[0].http2.websockets: expected true or false");
    }

    @Test
    void tlsNeedsACertificateSource() {
        assertError("""
                listeners:
                  - port: 0
                    tls: { reload-interval: 1s }
                    routes: [{ path: /, pool: p }]
                """, "tls.yaml:3:5: listeners[0].tls: tls needs certificates:, acme: or self-signed: true");
    }

    @Test
    void missingCertificateFile(@TempDir Path dir) throws Exception {
        Path key = Files.writeString(dir.resolve("a.key"), "x");
        assertError("""
                listeners:
                  - port: 0
                    tls:
                      certificates: [{ cert: /nonexistent/a.crt, key: %s }]
                    routes: [{ path: /, pool: p }]
                """.formatted(key), "tls.yaml:4:30: listeners[0].tls.certificates[0].cert: '/nonexistent/a.crt': no such file");
    }

    @Test
    void acmeNeedsDomainsAndStorage() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                listeners:
                  - port: 0
                    tls:
                      acme: { email: ops@example.com }
                    routes: [{ path: /, pool: p }]
                """));
        assertEquals(2, e.problems().size(), e::getMessage);
        assertTrue(e.getMessage().contains("listeners[0].tls.acme.domains: acme needs at least one domain"), e::getMessage);
        assertTrue(e.getMessage().contains("listeners[0].tls.acme: missing required key 'storage'"), e::getMessage);
    }

    @Test
    void badDomain() {
        assertError("""
                listeners:
                  - port: 0
                    tls:
                      acme: { domains: [ "exa mple.com" ], storage: /tmp/x }
                    routes: [{ path: /, pool: p }]
                """, "tls.yaml:4:26: listeners[0].tls.acme.domains[0]: 'exa mple.com' is not a domain name");
    }

    @Test
    void tlsListenerCannotRedirect() {
        assertError("""
                listeners:
                  - port: 0
                    redirect-to-https: 443
                    tls: { self-signed: true }
                    routes: [{ path: /, pool: p }]
                """, "tls.yaml:3:24: listeners[0].redirect-to-https: a TLS listener cannot redirect to HTTPS");
    }

    @Test
    void http2Limits() {
        assertError("""
                listeners:
                  - port: 0
                    http2: { max-concurrent-streams: 0 }
                    routes: [{ path: /, pool: p }]
                """, "tls.yaml:3:38: listeners[0].http2.max-concurrent-streams: 0 is out of range (1..10000)");
        assertError("""
                listeners:
                  - port: 0
                    http2: { initial-window-size: 1KiB }
                    routes: [{ path: /, pool: p }]
                """, "tls.yaml:3:35: listeners[0].http2.initial-window-size: must be at least 16KiB");
    }

    @Test
    void httpsExampleIsValid() throws Exception {
        SluiceConfig c = ConfigLoader.load(Path.of("../config/https.yaml"),
                Map.of("DOMAIN", "llm.example.com", "EMAIL", "ops@example.com")::get);
        assertEquals(List.of("llm.example.com"), c.listeners().get(0).tls().acme().domains());
        assertEquals(443, c.listeners().get(1).redirectToHttps());
        assertEquals("stdout", c.accessLog().output());
    }

    @Test
    void routesAreRequiredUnlessRedirecting() {
        assertError("listeners: [{ port: 0 }]\n", "tls.yaml:1:13: listeners[0].routes: a listener needs at least one route");
    }
}
