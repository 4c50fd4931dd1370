package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code rate-limits.store}: the shared Redis store of the rate-limit buckets. */
class LimitStoreConfigTest {

    static SluiceConfig parse(String rateLimits, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse("""
                listeners:
                  - port: 8000
                    rate-limits: %s
                    routes: [ { path: /v1/, pool: p } ]
                pools:
                  p: { backends: [ { url: "http://127.0.0.1:9" } ] }
                """.formatted(rateLimits), "t.yaml", env::get);
    }

    @Test
    void defaultsAndValues() throws Exception {
        AccessConfig a = parse("{ per-key: { requests-per-minute: 60 }, store: { redis: \"redis://127.0.0.1:6379\" } }", Map.of())
                .listeners().get(0).access();
        assertEquals(new AccessConfig.LimitStore("redis://127.0.0.1:6379", true, Duration.ofMillis(50), "sluice:"), a.store());
        assertEquals(new AccessConfig.Limit(60, 0), a.perKey());

        AccessConfig.LimitStore s = parse("{ per-ip: { requests-per-minute: 5 }, store: { redis: \"${REDIS_URL}\", on-failure: closed,"
                + " timeout: 200ms, key-prefix: \"prod:\" } }", Map.of("REDIS_URL", "rediss://:s3cret@redis.internal:6380/2"))
                .listeners().get(0).access().store();
        assertFalse(s.failOpen());
        assertEquals(Duration.ofMillis(200), s.timeout());
        assertEquals("prod:", s.keyPrefix());
        assertEquals("rediss://redis.internal:6380", s.describe());
        assertFalse(s.toString().contains("s3cret"), s.toString());

        assertNull(parse("{ per-key: { requests-per-minute: 60 } }", Map.of()).listeners().get(0).access().store(),
                "without a store the buckets are local");
    }

    @Test
    void badValuesAreLocatedAndSecretsNotEchoed() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                { per-key: { requests-per-minute: 60 },
                                 store: { redis: "http://:hunter2@127.0.0.1:6379", on-failure: maybe, timeout: 0s, retries: 3 } }""",
                Map.of()));
        String m = e.getMessage();
        assertTrue(m.contains("t.yaml:4:") && m.contains("expected a redis:// or rediss:// URL"), m);
        assertTrue(m.contains("on-failure 'maybe' is not supported (open, closed)"), m);
        assertTrue(m.contains("timeout") && m.contains("must be longer than 0"), m);
        assertTrue(m.contains("retries"), m);
        assertFalse(m.contains("hunter2"), "the URL's password is never echoed: " + m);

        String noHost = assertThrows(ConfigException.class,
                () -> parse("{ per-key: { requests-per-minute: 1 }, store: { redis: \"redis://:6379\" } }", Map.of())).getMessage();
        assertTrue(noHost.contains("has no host"), noHost);
        String missing = assertThrows(ConfigException.class,
                () -> parse("{ per-key: { requests-per-minute: 1 }, store: { timeout: 50ms } }", Map.of())).getMessage();
        assertTrue(missing.contains("missing required key 'redis'"), missing);
        String db = assertThrows(ConfigException.class,
                () -> parse("{ per-key: { requests-per-minute: 1 }, store: { redis: \"redis://h:1/x\" } }", Map.of())).getMessage();
        assertTrue(db.contains("database number"), db);
        String slow = assertThrows(ConfigException.class,
                () -> parse("{ per-key: { requests-per-minute: 1 }, store: { redis: \"redis://h:1\", timeout: 1m } }", Map.of())).getMessage();
        assertTrue(slow.contains("longer than the maximum"), slow);
    }
}
