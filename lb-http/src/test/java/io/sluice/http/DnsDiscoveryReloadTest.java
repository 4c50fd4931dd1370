package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.backend.Backend;
import io.sluice.core.pool.BackendPool;
import io.sluice.http.server.Reloader;
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
 * A reload that keeps a {@code dns:} entry keeps its discovered backends (the same objects, not
 * drained); one that drops the entry drains them; and a DNS server that is gone keeps the set.
 */
class DnsDiscoveryReloadTest {
    static final String CONFIG = """
            server: { io-threads: 1, dns: { servers: [ "${DNS}" ], query-timeout: 200ms } }
            listeners:
              - { port: 0, host: 127.0.0.1, routes: [ { path: /v1/, pool: p } ] }
            pools:
              p:
                health: { interval: 100ms, timeout: 90ms, rise: 1, fall: 1 }
                backends:
                  - { url: "http://127.0.0.1:${SIM0}", name: fixed }
            %s
            admin: { scrape-interval: 0 }
            """;
    static final String ENTRY = "      - { dns: \"vllm.sluice.test:${SIM0}\", name: vllm, dns-refresh: { min: 100ms, max: 400ms } }";

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .backend("DNS", DnsDiscoveryReloadTest::dns, TestDnsServer::hostAndPort)
            .simulators(SimulatorOptions.builder().host("127.0.0.1").port(0).model("demo").build())
            .yaml(CONFIG.formatted(ENTRY))
            .build();
    static TestDnsServer dns;
    static VllmSimulator second;

    private static TestDnsServer dns() throws Exception {
        TestDnsServer d = new TestDnsServer();
        d.ttl(0);
        d.set("vllm.sluice.test", "127.0.0.2", "127.0.0.3");
        return d;
    }

    @BeforeAll
    static void start() throws Exception {
        dns = sluice.backend("DNS");
        second = VllmSimulator.start(SimulatorOptions.builder().host("127.0.0.2").port(sluice.sim(0).port()).model("demo").build());
    }

    @AfterAll
    static void stop() {
        if (second != null) {
            second.close();
        }
    }

    static BackendPool pool() {
        return sluice.server().upstreams().pool("p");
    }

    static Set<String> ids() {
        Set<String> ids = new TreeSet<>();
        pool().backends().forEach(b -> ids.add(b.id()));
        return ids;
    }

    static String id(String ip) {
        return "vllm@" + ip + ":" + sluice.sim(0).port();
    }

    static Backend backend(String id) {
        return pool().backends().stream().filter(b -> b.id().equals(id)).findFirst().orElse(null);
    }

    @Test
    void reloadsKeepOrDrainTheDiscoveredBackendsAndAStoppedDnsServerKeepsThem() throws Exception {
        Set<String> all = Set.of("fixed", id("127.0.0.2"), id("127.0.0.3"));
        Await.until("both addresses discovered, .2 healthy", Duration.ofSeconds(20),
                () -> ids().equals(all) && backend(id("127.0.0.2")).isAvailable());
        Backend two = backend(id("127.0.0.2"));
        Backend three = backend(id("127.0.0.3")); // nothing listens there: discovered but down

        // The same entry (and a new refresh): nothing changes hands.
        Reloader.Result same = sluice.reload(CONFIG.formatted(ENTRY.replace("max: 400ms", "max: 300ms")));
        assertTrue(same.changes().contains("pool p: dns entry vllm added or changed"), same.changes().toString());
        long lookups = sluice.server().discovery().lookups();
        Await.until("lookups go on after the reload", Duration.ofSeconds(10), () -> sluice.server().discovery().lookups() > lookups + 2);
        assertSame(two, backend(two.id()), "kept, not replaced");
        assertSame(three, backend(three.id()));
        assertFalse(two.isDraining());
        assertTrue(two.isAvailable());

        // The entry removed: its backends drain and go; the url: backend stays.
        Reloader.Result removed = sluice.reload(CONFIG.formatted(""));
        assertTrue(removed.changes().contains("pool p: dns entry vllm removed (draining its backends)"), removed.changes().toString());
        Await.until("the discovered backends are gone", Duration.ofSeconds(10), () -> ids().equals(Set.of("fixed")));
        assertTrue(two.isDraining());
        assertTrue(backend("fixed").isAvailable());

        // Back again: discovered afresh.
        sluice.reload(CONFIG.formatted(ENTRY));
        Await.until("rediscovered", Duration.ofSeconds(10), () -> ids().equals(all));
        Backend again = backend(id("127.0.0.2"));
        Await.until(".2 healthy again", Duration.ofSeconds(10), again::isAvailable);

        // The DNS server stops for good: lookups fail, the set stays.
        dns.close();
        long before = sluice.server().discovery().lookups();
        Await.until("failed lookups", Duration.ofSeconds(20), () -> sluice.server().discovery().lookups() >= before + 3);
        assertEquals(all, ids(), "a DNS outage never empties the pool");
        assertSame(again, backend(again.id()));
        assertTrue(again.isAvailable());
        List<Backend> members = pool().backends();
        assertEquals(3, members.size());
    }
}
