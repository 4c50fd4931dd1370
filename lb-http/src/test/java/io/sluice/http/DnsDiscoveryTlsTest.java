package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@code dns: https://} entry: the discovered backends speak TLS, verified against the pool's {@code tls.server-name}. */
class DnsDiscoveryTlsTest {
    static VllmSimulator sim;
    static TlsBackend tls;
    static SslContext context;
    static TestDnsServer dns;
    static SluiceServer server;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        sim = VllmSimulator.start(SimulatorOptions.builder().ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(5)).build());
        TestTls.Ca ca = TestTls.Ca.create("Discovery Test CA");
        Path caFile = ca.write(dir, "ca");
        SelfSigned.Certificate leaf = ca.issue("vllm.test", "vllm.test");
        context = SslContextBuilder.forServer(leaf.keys().getPrivate(), leaf.cert()).sslProvider(Tls.provider()).build();
        tls = new TlsBackend(context, sim.port());
        dns = new TestDnsServer();
        dns.set("tls.sluice.test", "127.0.0.1");
        Path file = Files.writeString(dir.resolve("sluice.yaml"), """
                server: { io-threads: 1, dns: { servers: [ "%s" ] } }
                listeners: [ { port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] } ]
                pools:
                  p:
                    health: { enabled: false }
                    tls: { ca-file: %s, server-name: vllm.test }
                    backends: [ { dns: "https://tls.sluice.test:%d", name: tls } ]
                admin: { scrape-interval: 0 }
                """.formatted(dns.hostAndPort(), caFile, tls.port()));
        server = SluiceServer.start(ConfigLoader.load(file));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (tls != null) {
            tls.close();
        }
        ReferenceCountUtil.release(context);
        if (dns != null) {
            dns.close();
        }
        sim.close();
    }

    @Test
    void theDiscoveredBackendIsSpokenToOverTlsWithThePoolsServerName() throws Exception {
        String id = "tls@127.0.0.1:" + tls.port();
        Await.until("discovered", Duration.ofSeconds(10), () -> server.upstreams().pool("p").backends().stream()
                .anyMatch(b -> b.id().equals(id)));
        Backend b = server.upstreams().pool("p").backends().get(0);
        assertTrue(b.tls(), "an https:// entry makes TLS backends");
        try (RawHttp c = new RawHttp(server.port())) {
            RawHttp.Response r = c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), "X-Case: dns-tls").exchange();
            assertEquals(200, r.status(), r.body().text());
        }
        TlsBackend.Seen seen = tls.find("dns-tls");
        assertNotNull(seen, "the request went through the TLS terminator");
        assertEquals("vllm.test", seen.sni());
    }
}
