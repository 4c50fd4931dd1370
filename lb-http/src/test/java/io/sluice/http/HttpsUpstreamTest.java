package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.ConfigLoader;
import io.sluice.http.server.SluiceServer;
import io.sluice.http.tls.SelfSigned;
import io.sluice.http.tls.Tls;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code https://} backends over real sockets: a TLS terminator with its own CA in front of a
 * simulated vLLM. Each pool gets its own listener, so every case has its own connection pool.
 */
class HttpsUpstreamTest {
    static VllmSimulator sim;
    static TlsBackend plainTls;   // certificate for backend.test and other.test, from CA "good"
    static TlsBackend mutual;     // the same, and requires a client certificate from CA "clients"
    static SslContext plainContext;
    static SslContext mutualContext;
    static SluiceServer server;
    @TempDir
    static Path dir;
    static Path file;
    static Path goodCa;
    static Path otherCa;
    static final AtomicInteger cases = new AtomicInteger();

    static final String[] LISTENERS = {"good", "pass", "literal", "reuse", "wrongca", "wrongname", "insecure", "mtls",
            "nocert", "health", "reload"};

    static String pools(String reloadPool) {
        String a = "https://127.0.0.1:" + plainTls.port();
        return """
                pools:
                  good:
                    health: { enabled: false }
                    host-header: backend
                    tls: { ca-file: %2$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  pass:
                    health: { enabled: false }
                    tls: { ca-file: %2$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  literal:
                    health: { enabled: false }
                    host-header: api.example.com
                    tls: { ca-file: %2$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  reuse:
                    health: { enabled: false }
                    tls: { ca-file: %2$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  wrongca:
                    health: { enabled: false }
                    tls: { ca-file: %3$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  wrongname:
                    health: { enabled: false }
                    tls: { ca-file: %2$s }
                    backends: [ { url: "https://localhost:%4$d", name: b1 } ]
                  insecure:
                    health: { enabled: false }
                    tls: { ca-file: %3$s, verify: false }
                    backends: [ { url: "https://localhost:%4$d", name: b1 } ]
                  mtls:
                    health: { enabled: false }
                    tls: { ca-file: %2$s, server-name: backend.test, client-cert: %5$s/client.crt, client-key: %5$s/client.key }
                    backends: [ { url: "https://127.0.0.1:%6$d", name: b2 } ]
                  nocert:
                    health: { enabled: false }
                    tls: { ca-file: %2$s, server-name: backend.test, protocols: [TLSv1.2] }
                    backends: [ { url: "https://127.0.0.1:%6$d", name: b2 } ]
                  health:
                    health: { enabled: true, path: /health, interval: 200ms, timeout: 150ms, fall: 1, rise: 1 }
                    tls: { ca-file: %3$s, server-name: backend.test }
                    backends: [ { url: "%1$s", name: b1 } ]
                  reload:
                    health: { enabled: false }
                %7$s
                    backends: [ { url: "%1$s", name: b1 } ]
                """.formatted(a, goodCa, otherCa, plainTls.port(), dir, mutual.port(), reloadPool);
    }

    static String yaml(String reloadPool) {
        StringBuilder sb = new StringBuilder("server: { io-threads: 1 }\nlisteners:\n");
        for (String l : LISTENERS) {
            sb.append("  - { name: ").append(l).append(", port: 0, host: 127.0.0.1, routes: [ { path: /, pool: ")
                    .append(l).append(" } ] }\n");
        }
        sb.append("  - { name: admin, port: 0, host: 127.0.0.1, routes: [ { path: /api/, admin: true } ] }\n");
        return sb + pools(reloadPool) + "admin: { scrape-interval: 0 }\n";
    }

    @BeforeAll
    static void start() throws Exception {
        sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(5)).build());
        TestTls.Ca good = TestTls.Ca.create("Good Test CA");
        TestTls.Ca other = TestTls.Ca.create("Other Test CA");
        TestTls.Ca clients = TestTls.Ca.create("Client CA");
        goodCa = good.write(dir, "good-ca");
        otherCa = other.write(dir, "other-ca");
        TestTls.write(dir, "client", clients.issue("sluice-client"));
        SelfSigned.Certificate leaf = good.issue("backend.test", "backend.test", "other.test");
        plainContext = SslContextBuilder.forServer(leaf.keys().getPrivate(), leaf.cert()).sslProvider(Tls.provider()).build();
        mutualContext = SslContextBuilder.forServer(leaf.keys().getPrivate(), leaf.cert()).sslProvider(Tls.provider())
                .trustManager(clients.cert()).clientAuth(ClientAuth.REQUIRE).build();
        plainTls = new TlsBackend(plainContext, sim.port());
        mutual = new TlsBackend(mutualContext, sim.port());
        file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml("    host-header: pass\n    tls: { ca-file: " + goodCa + ", server-name: backend.test }\n"));
        server = SluiceServer.start(ConfigLoader.load(file));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (plainTls != null) {
            plainTls.close();
            mutual.close();
        }
        ReferenceCountUtil.release(plainContext);
        ReferenceCountUtil.release(mutualContext);
        sim.close();
    }

    static int port(String listener) {
        return server.port(listener);
    }

    record Answer(RawHttp.Response response, String xCase) {
    }

    static Answer chat(String listener, boolean stream) throws Exception {
        String id = listener + "-" + cases.incrementAndGet();
        try (RawHttp c = new RawHttp(port(listener))) {
            return new Answer(c.post("/v1/chat/completions", RawHttp.chatBody("demo", stream, 5), "X-Case: " + id).exchange(), id);
        }
    }

    @Test
    void sseStreamsThroughAnHttpsUpstreamWithSniAndTheBackendsHost() throws Exception {
        Answer a = chat("good", true);
        assertEquals(200, a.response().status(), a.response().body().text());
        assertTrue(a.response().header("content-type").startsWith("text/event-stream"));
        List<String> events = a.response().body().events();
        assertEquals("[DONE]", events.get(events.size() - 1), events.toString());
        assertTrue(events.size() > 2, events.toString());
        TlsBackend.Seen seen = plainTls.find(a.xCase());
        assertNotNull(seen);
        assertEquals("backend.test", seen.sni());
        assertEquals("127.0.0.1:" + plainTls.port(), seen.host()); // host-header: backend; not the default port, so kept
    }

    @Test
    void hostHeaderPassKeepsTheClientsAndALiteralReplacesIt() throws Exception {
        Answer pass = chat("pass", false);
        assertEquals(200, pass.response().status(), pass.response().body().text());
        assertEquals("localhost", plainTls.find(pass.xCase()).host());
        Answer literal = chat("literal", false);
        assertEquals(200, literal.response().status());
        assertEquals("api.example.com", plainTls.find(literal.xCase()).host());
    }

    @Test
    void aPooledTlsConnectionIsReusedWithoutANewHandshake() throws Exception {
        int before = plainTls.handshakes.get();
        Backend b = server.upstreams().pool("reuse").backends().get(0);
        String[] ids = new String[5];
        try (RawHttp c = new RawHttp(port("reuse"))) {
            for (int i = 0; i < ids.length; i++) {
                ids[i] = "reuse-" + i;
                assertEquals(200, c.post("/v1/chat/completions", RawHttp.chatBody("demo", i % 2 == 0, 5), "X-Case: " + ids[i])
                        .exchange().status());
            }
        }
        assertEquals(1, server.upstreams().connections(b).connectionsOpened());
        assertEquals(before + 1, plainTls.handshakes.get());
        int conn = plainTls.find(ids[0]).connection();
        for (String id : ids) {
            assertEquals(conn, plainTls.find(id).connection(), id);
        }
    }

    @Test
    void aCertificateFromAnotherCaIsA502WithTheReason() throws Exception {
        Answer a = chat("wrongca", false);
        assertEquals(502, a.response().status());
        assertEquals("upstream_tls_failed", a.response().header("x-sluice-error"));
        String body = a.response().body().text();
        assertTrue(body.contains("TLS handshake with backend b1 failed: certificate not trusted"), body);
        assertTrue(!body.contains("Exception") && !body.contains("\\tat "), body);
        assertEquals(null, plainTls.find(a.xCase())); // nothing was sent
    }

    @Test
    void aCertificateForAnotherNameIsA502WithADifferentReason() throws Exception {
        Answer a = chat("wrongname", false);
        assertEquals(502, a.response().status());
        assertEquals("upstream_tls_failed", a.response().header("x-sluice-error"));
        String body = a.response().body().text();
        assertTrue(body.contains("TLS handshake with backend b1 failed: certificate name does not match 'localhost'"), body);
    }

    @Test
    void verifyFalseAcceptsAnyCertificate() throws Exception {
        Answer a = chat("insecure", false);
        assertEquals(200, a.response().status(), a.response().body().text());
        assertEquals("localhost", plainTls.find(a.xCase()).sni()); // dot-less names are sent as SNI too
    }

    @Test
    void theClientCertificateIsPresentedWhenConfigured() throws Exception {
        Answer a = chat("mtls", false);
        assertEquals(200, a.response().status(), a.response().body().text());
        assertEquals("CN=sluice-client", mutual.find(a.xCase()).clientSubject());
        // Without one (TLS 1.2, where the server's refusal is part of the handshake): a TLS failure.
        Answer none = chat("nocert", false);
        assertEquals(502, none.response().status());
        assertEquals("upstream_tls_failed", none.response().header("x-sluice-error"));
        assertTrue(none.response().body().text().contains("TLS handshake with backend b2 failed: the backend refused the handshake"),
                none.response().body().text());
    }

    @Test
    void healthChecksUseTheSameTlsSettings() throws Exception {
        Backend b = server.upstreams().pool("health").backends().get(0);
        Await.until("the health check fails over TLS", Duration.ofSeconds(10),
                () -> b.lastHealth() != null && !b.isHealthy());
        assertTrue(b.lastHealth().toString().contains("TLS: certificate not trusted"), b.lastHealth().toString());
    }

    @Test
    void aReloadAppliesTlsAndHostHeaderToNewConnections() throws Exception {
        Answer first = chat("reload", false);
        assertEquals(200, first.response().status());
        TlsBackend.Seen s1 = plainTls.find(first.xCase());
        assertEquals("backend.test", s1.sni());
        assertEquals("localhost", s1.host());

        Files.writeString(file, yaml("    host-header: reloaded.example\n    tls: { ca-file: " + goodCa + ", server-name: other.test }\n"));
        assertTrue(server.reload().changes().contains("pool reload settings updated"));
        Answer second = chat("reload", false);
        assertEquals(200, second.response().status(), second.response().body().text());
        TlsBackend.Seen s2 = plainTls.find(second.xCase());
        assertEquals("other.test", s2.sni());
        assertEquals("reloaded.example", s2.host());
        assertTrue(s2.connection() != s1.connection(), "the pooled connection of the old settings is not reused");

        Files.writeString(file, yaml("    tls: { ca-file: " + otherCa + ", server-name: other.test }\n"));
        server.reload();
        Answer third = chat("reload", false);
        assertEquals(502, third.response().status());
        assertEquals("upstream_tls_failed", third.response().header("x-sluice-error"));
    }
}
