package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backends named by host name are resolved asynchronously through a TTL-honouring cache: against a
 * DNS server of the test's own, a name is followed when its record changes, and a failed lookup is a
 * 502 for that request and is asked again on the next connect.
 */
class DnsUpstreamTest {
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("DNS", DnsUpstreamTest::dns, TestDnsServer::hostAndPort)
            .simulators(SimulatorOptions.builder().host("127.0.0.1").port(0).build())
            .yaml("""
                    server: { io-threads: 1, dns: { servers: [ "${DNS}" ], query-timeout: 1s } }
                    listeners:
                      - { name: moving, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: moving } ] }
                      - { name: flaky, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: flaky } ] }
                      - { name: literal, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: literal } ] }
                    pools:
                      moving:
                        max-idle-per-backend: 0   # every request on a new connection, so each one resolves
                        health: { enabled: false }
                        backends: [ { url: "http://moving.sluice.test:${SIM0}" } ]
                      flaky:
                        retries: { attempts: 0 }
                        health: { enabled: false }
                        backends: [ { url: "http://flaky.sluice.test:${SIM0}" } ]
                      literal:
                        max-idle-per-backend: 0
                        health: { enabled: false }
                        backends: [ { url: "http://127.0.0.1:${SIM0}" } ]
                    admin: { scrape-interval: 0 }
                    """)
            .build();
    static TestDnsServer dns;
    static VllmSimulator first;   // 127.0.0.1:P
    static VllmSimulator second;  // 127.0.0.2:P, same port: only the DNS answer tells them apart
    static SluiceServer server;

    private static TestDnsServer dns() throws Exception {
        TestDnsServer d = new TestDnsServer();
        d.set("moving.sluice.test", "127.0.0.1");
        d.set("flaky.sluice.test", "127.0.0.1");
        d.failing("flaky.sluice.test", true);
        return d;
    }

    @BeforeAll
    static void start() throws Exception {
        dns = sluice.backend("DNS");
        first = sluice.sim(0);
        second = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.2").port(first.port()).build());
        server = sluice.server();
    }

    @AfterAll
    static void stop() {
        second.close();
    }

    private static RawHttp.Response chat(String listener) throws Exception {
        try (RawHttp c = new RawHttp(server.port(listener))) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange();
        }
    }

    @Test
    void aBackendNamedByHostNameFollowsItsRecordOnceTheTtlHasPassed() throws Exception {
        long firstBefore = first.requestsTotal();
        assertEquals(200, chat("moving").status());
        assertEquals(firstBefore + 1, first.requestsTotal(), "the name resolved to 127.0.0.1");
        int queries = dns.aQueries();
        assertEquals(200, chat("moving").status());
        assertEquals(queries, dns.aQueries(), "within the TTL the cached answer is used");

        dns.set("moving.sluice.test", "127.0.0.2"); // TTL 1s: new connections must follow within about a second
        long secondBefore = second.requestsTotal();
        Await.until("a new connection goes to the new address", Duration.ofSeconds(10), () -> {
            try {
                assertEquals(200, chat("moving").status());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return second.requestsTotal() > secondBefore;
        });
        assertTrue(dns.aQueries() > queries, "looked up again after the TTL");
        long firstNow = first.requestsTotal();
        assertEquals(200, chat("moving").status());
        assertEquals(firstNow, first.requestsTotal(), "nothing goes to the old address any more");
    }

    @Test
    void aFailedLookupIsA502ForTheBackendAndIsRetriedOnTheNextConnect() throws Exception {
        RawHttp.Response failed = chat("flaky");
        assertEquals(502, failed.status(), failed.body().text());
        assertEquals("upstream_connect_failed", failed.header("x-sluice-error"));
        Backend b = server.upstreams().pool("flaky").backends().get(0);
        assertTrue(b.isAvailable(), "a lookup failure does not eject the backend: the next request asks DNS again");

        dns.failing("flaky.sluice.test", false);
        long before = first.requestsTotal();
        RawHttp.Response ok = chat("flaky");
        assertEquals(200, ok.status(), ok.body().text());
        assertEquals(before + 1, first.requestsTotal());
    }

    @Test
    void anIpLiteralIsNeverLookedUp() throws Exception {
        int queries = dns.aQueries();
        for (int i = 0; i < 3; i++) {
            assertEquals(200, chat("literal").status());
        }
        assertEquals(queries, dns.aQueries());
    }
}
