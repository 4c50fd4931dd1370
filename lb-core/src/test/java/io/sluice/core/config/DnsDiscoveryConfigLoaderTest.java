package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code dns:} backend entries and their {@code dns-refresh}, in the style of {@link ConfigLoaderTest}. */
class DnsDiscoveryConfigLoaderTest {
    private static String yaml(String backends) {
        return """
                listeners:
                  - { port: 8000, routes: [ { path: /, pool: p } ] }
                pools:
                  p:
                    backends:
                %s""".formatted(backends);
    }

    private static BackendConfig only(String backends) throws ConfigException {
        return ConfigLoader.parse(yaml(backends), "dns.yaml", name -> null).pools().get("p").backends().get(0);
    }

    private static void assertError(String backends, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml(backends), "dns.yaml", name -> null));
        assertTrue(e.getMessage().startsWith(expected), () -> "expected: " + expected + "\nbut was:  " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
    }

    @Test
    void aHostAndPortWithDefaults() throws Exception {
        BackendConfig b = only("      - dns: vllm-headless.ns.svc.cluster.local:8000\n");
        assertTrue(b.isDiscovered());
        assertFalse(b.isSimulated());
        assertEquals("vllm-headless.ns.svc.cluster.local", b.host());
        assertEquals(8000, b.port());
        assertFalse(b.tls());
        assertEquals("vllm-headless.ns.svc.cluster.local:8000", b.name());
        assertEquals(DnsDiscoveryConfig.DEFAULT, b.dns());
        assertEquals(Duration.ofSeconds(1), b.dns().minRefresh());
        assertEquals(Duration.ofSeconds(60), b.dns().maxRefresh());
        assertNull(only("      - url: http://10.0.0.1:8000\n").dns());
    }

    @Test
    void aUrlWithNameWeightAndRefresh() throws Exception {
        BackendConfig b = only("""
                      - dns: https://VLLM.example.com
                        name: gpus
                        weight: 3
                        dns-refresh: { min: 5s, max: 30s }
                """);
        assertEquals("vllm.example.com", b.host());
        assertEquals(443, b.port());
        assertTrue(b.tls());
        assertEquals("gpus", b.name());
        assertEquals(3, b.weight());
        assertEquals(new DnsDiscoveryConfig(Duration.ofSeconds(5), Duration.ofSeconds(30)), b.dns());
        assertEquals(80, only("      - dns: http://vllm.example.com\n").port());
    }

    @Test
    void theRefreshFollowsTheTtlWithinItsBounds() {
        DnsDiscoveryConfig c = new DnsDiscoveryConfig(Duration.ofSeconds(2), Duration.ofSeconds(30));
        assertEquals(Duration.ofSeconds(2), c.refreshAfter(0));
        assertEquals(Duration.ofSeconds(10), c.refreshAfter(10));
        assertEquals(Duration.ofSeconds(30), c.refreshAfter(86400));
    }

    @Test
    void badEntriesAreReportedWhereTheyAre() {
        assertError("      - dns: vllm.example.com\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: 'vllm.example.com' has no port (expected host:port or http(s)://host[:port], host a DNS name)");
        assertError("      - dns: 10.0.0.5:8000\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: '10.0.0.5:8000' is an IP address, which has nothing to discover: use url: instead");
        assertError("      - dns: \"[::1]:8000\"\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: '[::1]:8000' is an IP address");
        assertError("      - dns: vllm.example.com:99999\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: 'vllm.example.com:99999'");
        assertError("      - dns: ftp://vllm.example.com:21\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: 'ftp://vllm.example.com:21' is not an http URL");
        assertError("      - dns: vllm.example.com:8000/v1\n",
                "dns.yaml:6:14: pools.p.backends[0].dns: 'vllm.example.com:8000/v1' is not a host:port");
        assertError("      - { dns: vllm.example.com:8000, url: http://10.0.0.1:8000 }\n",
                "dns.yaml:6:9: pools.p.backends[0]: a backend needs one of url:, dns: or simulator:, not several");
        assertError("      - { url: http://10.0.0.1:8000, dns-refresh: { min: 1s } }\n",
                "dns.yaml:6:9: pools.p.backends[0]: a backend needs one of url:, dns: or simulator:, not several");
        assertError("      - { dns-refresh: { min: 1s } }\n",
                "dns.yaml:6:9: pools.p.backends[0]: a dns: backend needs dns: host:port (or http(s)://host[:port])");
        assertError("      - { dns: , weight: 2 }\n",
                "dns.yaml:6:9: pools.p.backends[0]: a dns: backend needs dns: host:port");
        assertError("      - { dns: vllm.example.com:8000, dns-refresh: { min: 10s, max: 5s } }\n",
                "dns.yaml:6:69: pools.p.backends[0].dns-refresh.max: min 10s must not be longer than max 5s");
        assertError("      - { dns: vllm.example.com:8000, dns-refresh: { min: 0s } }\n",
                "dns.yaml:6:59: pools.p.backends[0].dns-refresh.min: must be longer than 0");
        assertError("      - { dns: vllm.example.com:8000, dns-refresh: { every: 5s } }\n",
                "dns.yaml:6:54: pools.p.backends[0].dns-refresh.every: unknown key 'every' (expected one of: min, max)");
        assertError("      - dns: vllm.example.com:8000\n      - dns: vllm.example.com:8000\n",
                "dns.yaml:7:14: pools.p.backends[1].dns: duplicate dns: entry vllm.example.com:8000 (also at line 6)");
        assertError("      - { dns: a.example.com:8000, name: x }\n      - { url: http://10.0.0.1:8000, name: x }\n",
                "dns.yaml:7:44: pools.p.backends[1].name: duplicate backend name 'x' (also at line 6)");
    }
}
