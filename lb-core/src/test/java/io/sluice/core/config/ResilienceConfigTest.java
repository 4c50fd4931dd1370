package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The keys of retries, outlier ejection, timeouts, limits, API keys, rate limits and CORS. */
class ResilienceConfigTest {

    static SluiceConfig parse(String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(yaml, "t.yaml", env::get);
    }

    @Test
    void everyKeyIsReadWithItsDefault() throws Exception {
        SluiceConfig c = parse("""
                server: { max-connections: 5000 }
                listeners:
                  - port: 8000
                    header-timeout: 5s
                    max-request-body: 1MiB
                    max-headers: 50
                    max-connections: 100
                    auth: { keys-env: KEYS }
                    rate-limits: { per-key: { requests-per-minute: 60, tokens-per-minute: 1000 }, per-ip: { requests-per-minute: 10 } }
                    cors: { origins: [ "https://a.example" ] }
                    routes: [ { path: /v1/, pool: p }, { path: /v1/models, pool: p, public: true } ]
                pools:
                  p:
                    stream-idle-timeout: 30s
                    request-timeout: 10m
                    retries: { attempts: 1, non-idempotent: true }
                    outlier: { consecutive-failures: 3, ejection: 5s }
                    max-in-flight-per-backend: 8
                    queue: { size: 100, timeout: 2s }
                    backends: [ { url: "http://127.0.0.1:9" } ]
                """, Map.of("KEYS", "a:b"));
        assertEquals(5000, c.server().maxConnections());
        ListenerConfig l = c.listeners().get(0);
        assertEquals(Duration.ofSeconds(5), l.headerTimeout());
        assertEquals(1 << 20, l.maxRequestBody());
        assertEquals(50, l.maxHeaders());
        assertEquals(100, l.maxConnections());
        assertEquals("KEYS", l.access().auth().keysEnv());
        assertEquals(new AccessConfig.Limit(60, 1000), l.access().perKey());
        assertEquals(new AccessConfig.Limit(10, 0), l.access().perIp());
        assertEquals(List.of("https://a.example"), l.access().cors().origins());
        assertTrue(l.routes().get(1).open());
        PoolConfig p = c.pools().get("p");
        assertEquals(Duration.ofSeconds(30), p.streamIdleTimeout());
        assertEquals(Duration.ofMinutes(10), p.requestTimeout());
        assertEquals(new RetryConfig(1, 20, true, 64 * 1024), p.retry());
        assertEquals(new OutlierConfig(true, 3, Duration.ofSeconds(5), Duration.ofMinutes(5)), p.outlier());
        assertEquals(8, p.maxInFlightPerBackend());
        assertEquals(100, p.queueSize());
        assertEquals(Duration.ofSeconds(2), p.queueTimeout());
    }

    @Test
    void mistakesAreLocated() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                listeners:
                  - port: 8000
                    auth: { keys-env: NOPE, keys-file: /no/such/file }
                    cors: { origins: [ "*" ], credentials: true }
                    routes: [ { path: /v1/, pool: p } ]
                pools:
                  p:
                    retries: { attempts: 99 }
                    outlier: { ejectoin: 5s }
                    backends: [ { url: "http://127.0.0.1:9" } ]
                """, Map.of()));
        String m = e.getMessage();
        assertTrue(m.contains("t.yaml:3:") && m.contains("environment variable NOPE is not set"), m);
        assertTrue(m.contains("cannot read keys file '/no/such/file'"), m);
        assertTrue(m.contains("t.yaml:4:") && m.contains("credentials cannot be allowed for any origin"), m);
        assertTrue(m.contains("t.yaml:8:") && m.contains("pools.p.retries.attempts"), m);
        assertTrue(m.contains("t.yaml:9:") && m.contains("unknown key 'ejectoin'"), m);
    }
}
