package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code dns:} backends against a DNS server of the test's own: one backend per A record, followed
 * on the TTL (0 here, so every {@code dns-refresh.min}). The simulators share one port on
 * 127.0.0.1, .2 and .3, so only the DNS answer tells them apart.
 */
class DnsDiscoveryTest {
    private static final String HEALTH = "health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 1 }";
    private static final String REFRESH = "dns-refresh: { min: 100ms, max: 1s }";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("DNS", DnsDiscoveryTest::dns, TestDnsServer::hostAndPort)
            .simulators(sim("127.0.0.1"))
            .env("HEALTH", HEALTH)
            .env("REFRESH", REFRESH)
            .yaml("""
                    server: { io-threads: 2, dns: { servers: [ "${DNS}" ], query-timeout: 300ms } }
                    listeners:
                      - name: main
                        port: 0
                        host: 127.0.0.1
                        routes: [ { path: /api/, admin: true }, { path: /v1/, pool: two } ]
                      - { name: moving, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: moving } ] }
                      - { name: growing, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: growing } ] }
                      - { name: steady, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: steady } ] }
                      - { name: dual, port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: dual } ] }
                    pools:
                      two:
                        balancer: round-robin
                        ${HEALTH}
                        backends: [ { dns: "two.sluice.test:${SIM0}", name: two, ${REFRESH} } ]
                      moving:
                        balancer: round-robin
                        ${HEALTH}
                        backends: [ { dns: "moving.sluice.test:${SIM0}", name: moving, ${REFRESH} } ]
                      growing:
                        balancer: round-robin
                        ${HEALTH}
                        backends: [ { dns: "http://growing.sluice.test:${SIM0}", name: growing, ${REFRESH} } ]
                      steady:
                        ${HEALTH}
                        retries: { attempts: 0 }
                        backends: [ { dns: "steady.sluice.test:${SIM0}", name: steady, ${REFRESH} } ]
                      dual:
                        balancer: round-robin
                        ${HEALTH}
                        backends: [ { dns: "dual.sluice.test:${SIM0}", name: dual, ${REFRESH} } ]
                    admin: { scrape-interval: 0 }
                    """)
            .build();
    static TestDnsServer dns;
    static VllmSimulator second; // 127.0.0.2, the port of the first

    static SimulatorOptions sim(String host) {
        return SimulatorOptions.builder().host(host).port(0).model("demo").ttft(Duration.ofMillis(5))
                .itl(Duration.ofMillis(20)).maxTokens(200).build();
    }

    private static TestDnsServer dns() throws Exception {
        TestDnsServer d = new TestDnsServer();
        d.ttl(0);
        d.set("two.sluice.test", "127.0.0.1", "127.0.0.2");
        d.set("moving.sluice.test", "127.0.0.1", "127.0.0.2");
        d.set("growing.sluice.test", "127.0.0.1");
        d.set("steady.sluice.test", "127.0.0.1", "127.0.0.2");
        d.set("dual.sluice.test", "127.0.0.1", "::1");
        return d;
    }

    @BeforeAll
    static void start() throws Exception {
        dns = sluice.backend("DNS");
        int port = sluice.sim(0).port();
        second = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.2").port(port).model("demo")
                .ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(20)).maxTokens(200).build());
    }

    @AfterAll
    static void stop() {
        if (second != null) {
            second.close();
        }
    }

    static BackendPool pool(String name) {
        return sluice.server().upstreams().pool(name);
    }

    static Set<String> ids(String pool) {
        Set<String> ids = new TreeSet<>();
        pool(pool).backends().forEach(b -> ids.add(b.id()));
        return ids;
    }

    static Backend backend(String pool, String id) {
        return pool(pool).backends().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
    }

    static String id(String entry, String ip) {
        return entry + "@" + (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + sluice.sim(0).port();
    }

    static void awaitAvailable(String pool, String... ips) throws InterruptedException {
        Set<String> want = new TreeSet<>();
        for (String ip : ips) {
            want.add(id(pool, ip));
        }
        Await.until(pool + " is exactly " + want + ", all available", Duration.ofSeconds(20), () ->
                ids(pool).equals(want) && pool(pool).backends().stream().allMatch(Backend::isAvailable));
    }

    static RawHttp.Response chat(String listener) throws Exception {
        try (RawHttp c = new RawHttp(sluice.port(listener))) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 1)).exchange();
        }
    }

    @Test
    void twoRecordsAreTwoBackendsThatBothServeAndShowInTheAdminList() throws Exception {
        awaitAvailable("two", "127.0.0.1", "127.0.0.2");
        long firstBefore = sluice.sim(0).requestsTotal();
        long secondBefore = second.requestsTotal();
        for (int i = 0; i < 6; i++) {
            assertEquals(200, chat("main").status());
        }
        assertEquals(firstBefore + 3, sluice.sim(0).requestsTotal(), "round-robin over the two addresses");
        assertEquals(secondBefore + 3, second.requestsTotal());

        RawHttp.Response list = AdminBackendsTest.call(sluice.port("main"), "GET", "/api/v1/backends", null);
        assertEquals(200, list.status());
        List<String> listed = AdminBackendsTest.json(list).get("backends").findValuesAsText("id");
        assertTrue(listed.contains(id("two", "127.0.0.1")) && listed.contains(id("two", "127.0.0.2")), listed.toString());
    }

    @Test
    void aRemovedRecordIsDrainedThenRemovedWhileItsStreamRunsToItsEnd() throws Exception {
        awaitAvailable("moving", "127.0.0.1", "127.0.0.2");
        String stay;
        try (RawHttp stream = new RawHttp(sluice.port("moving"))) {
            stream.post("/v1/chat/completions", RawHttp.chatBody("demo", true, 100)); // 100 tokens, 20 ms apart
            RawHttp.Head head = stream.readHead();
            assertEquals(200, head.status());
            assertNotNull(stream.readChunk());
            Backend busy = pool("moving").backends().stream().filter(b -> b.inFlight() == 1).findFirst().orElseThrow();
            stay = busy.host().equals("127.0.0.1") ? "127.0.0.2" : "127.0.0.1";

            dns.set("moving.sluice.test", stay);
            Await.until("the vanished address is drained", Duration.ofSeconds(10), busy::isDraining);
            assertSame(busy, backend("moving", busy.id()), "still a member while its stream runs");
            for (int i = 0; i < 3; i++) {
                assertEquals(200, chat("moving").status(), "new requests go to the address that stays");
            }
            assertEquals(1, busy.inFlight(), "only the stream opened before");

            StringBuilder text = new StringBuilder();
            RawHttp.Chunk c;
            while ((c = stream.readChunk()) != null) {
                text.append(c.text());
            }
            assertTrue(text.toString().contains("data: [DONE]"), "the stream on the drained backend ran to its end");
        }
        awaitAvailable("moving", stay); // drained, then removed
        dns.set("moving.sluice.test", "127.0.0.1", "127.0.0.2");
        awaitAvailable("moving", "127.0.0.1", "127.0.0.2"); // and back, under the same name
    }

    @Test
    void anAddedRecordJoinsOnlyOnceItsHealthChecksPass() throws Exception {
        awaitAvailable("growing", "127.0.0.1");
        dns.set("growing.sluice.test", "127.0.0.1", "127.0.0.3"); // nothing listens on .3 yet
        String third = id("growing", "127.0.0.3");
        Await.until("the new address is a member", Duration.ofSeconds(10), () -> backend("growing", third) != null);
        Backend b = backend("growing", third);
        assertFalse(b.isAvailable(), "a new address takes no traffic before its health check passes");
        Await.until("a health check ran against it and failed", Duration.ofSeconds(10),
                () -> b.lastHealth() != null && !b.lastHealth().ok());
        long failedAt = b.lastHealth().atMillis();
        Await.until("and another one", Duration.ofSeconds(10), () -> b.lastHealth().atMillis() > failedAt);
        assertFalse(b.isAvailable(), "still down: nothing answers there");
        for (int i = 0; i < 4; i++) {
            assertEquals(200, chat("growing").status(), "requests keep going to the healthy address");
        }

        try (VllmSimulator sim3 = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.3").port(sluice.sim(0).port())
                .model("demo").ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(1)).maxTokens(4).build())) {
            Await.until("it joins once healthy", Duration.ofSeconds(10), b::isAvailable);
            long before = sim3.requestsTotal();
            for (int i = 0; i < 4; i++) {
                assertEquals(200, chat("growing").status());
            }
            assertEquals(before + 2, sim3.requestsTotal(), "round-robin now includes the new address");
            dns.set("growing.sluice.test", "127.0.0.1");
            awaitAvailable("growing", "127.0.0.1");
        }
    }

    @Test
    void aFailingOrSilentDnsServerKeepsTheSetAndNxdomainDrainsIt() throws Exception {
        String name = "steady.sluice.test";
        awaitAvailable("steady", "127.0.0.1", "127.0.0.2");
        Backend one = backend("steady", id("steady", "127.0.0.1"));
        Backend two = backend("steady", id("steady", "127.0.0.2"));

        dns.failing(name, true); // SERVFAIL
        long lookups = sluice.server().discovery().lookups();
        int asked = dns.queries(name);
        Await.until("several failed lookups", Duration.ofSeconds(10), () -> dns.queries(name) >= asked + 6);
        Await.until("and their answers handled", Duration.ofSeconds(10), () -> sluice.server().discovery().lookups() > lookups + 2);
        assertSame(one, backend("steady", one.id()), "a failed lookup keeps the backends as they are");
        assertSame(two, backend("steady", two.id()));
        assertTrue(one.isAvailable() && two.isAvailable());
        dns.failing(name, false);

        dns.silent(true); // as if the server had stopped: every query times out
        try {
            int before = dns.queries(name);
            Await.until("lookups that time out", Duration.ofSeconds(10), () -> dns.queries(name) >= before + 6);
            assertEquals(Set.of(one.id(), two.id()), ids("steady"), "no answer keeps the set");
            assertTrue(one.isAvailable() && two.isAvailable());
            assertEquals(200, chat("steady").status());
        } finally {
            dns.silent(false);
        }

        dns.remove(name); // NXDOMAIN: what a Kubernetes headless service answers with no ready pod
        Await.until("NXDOMAIN drains every address", Duration.ofSeconds(10), () -> pool("steady").backends().isEmpty());
        RawHttp.Response none = chat("steady");
        assertEquals(503, none.status(), none.body().text());
        assertEquals("no_healthy_backend", none.header("x-sluice-error"));

        dns.set(name, "127.0.0.1", "127.0.0.2");
        awaitAvailable("steady", "127.0.0.1", "127.0.0.2");
        assertNull(backend("steady", "steady"), "the entry itself is never a backend");
    }

    @Test
    void aaaaRecordsAreBackendsTooAndAFamilyWithoutRecordsIsEmptied() throws Exception {
        try (VllmSimulator v6 = VllmSimulator.start(SimulatorOptions.builder().host("::1").port(sluice.sim(0).port())
                .model("demo").ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(1)).maxTokens(4).build())) {
            awaitAvailable("dual", "127.0.0.1", "::1");
            long before = v6.requestsTotal();
            for (int i = 0; i < 4; i++) {
                assertEquals(200, chat("dual").status());
            }
            assertEquals(before + 2, v6.requestsTotal(), "the AAAA address serves its share");

            dns.set("dual.sluice.test", "::1"); // A: an answer without records (NODATA)
            awaitAvailable("dual", "::1");
            dns.set("dual.sluice.test", "127.0.0.1"); // and now AAAA
            awaitAvailable("dual", "127.0.0.1");
        }
    }
}
