package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code telemetry.otlp} and the rotation keys of {@code access-log}. */
class TelemetryConfigLoaderTest {
    private static final String BASE = """
            listeners: [ { port: 8000, routes: [ { path: /v1/, pool: vllm } ] } ]
            pools: { vllm: { backends: [ { url: "http://127.0.0.1:8001" } ] } }
            """;

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(BASE + yaml, "test.yaml", Map.of("OTLP_KEY", "s3cret-value")::get);
    }

    private static void assertError(String yaml, String expected) {
        String message = assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
        assertTrue(message.contains(expected), message);
    }

    @Test
    void offUnlessConfigured() throws Exception {
        assertEquals(TelemetryConfig.NONE, parse("").telemetry());
        assertEquals(TelemetryConfig.NONE, parse("telemetry:\n").telemetry());
    }

    @Test
    void otlpWithDefaultsAndEverything() throws Exception {
        TelemetryConfig.Otlp d = parse("telemetry: { otlp: { endpoint: http://127.0.0.1:4318 } }\n").telemetry().otlp();
        assertEquals(new TelemetryConfig.Otlp(URI.create("http://127.0.0.1:4318"), Duration.ofSeconds(10), Duration.ofSeconds(10),
                Map.of(), Map.of()), d);
        assertEquals(URI.create("http://127.0.0.1:4318/v1/metrics"), d.metricsUrl());

        TelemetryConfig.Otlp o = parse("""
                telemetry:
                  otlp:
                    endpoint: https://collector.example:4318/otlp/
                    interval: 30s
                    timeout: 2s
                    headers: { authorization: "Bearer ${OTLP_KEY}" }
                    resource: { service.name: edge-gw, deployment.environment.name: prod }
                """).telemetry().otlp();
        assertEquals(URI.create("https://collector.example:4318/otlp/v1/metrics"), o.metricsUrl());
        assertEquals(Duration.ofSeconds(30), o.interval());
        assertEquals(Duration.ofSeconds(2), o.timeout());
        assertEquals(Map.of("authorization", "Bearer s3cret-value"), o.headers());
        assertEquals(Map.of("service.name", "edge-gw", "deployment.environment.name", "prod"), o.resource());
        assertFalse(o.toString().contains("s3cret"), "header values are secrets: " + o);
        assertTrue(o.toString().contains("authorization"), o.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "telemetry: { otlp: { interval: 5s } }                               | test.yaml:3:14: telemetry.otlp: missing required key 'endpoint'",
            "telemetry: { otlp: { endpoint: 127.0.0.1:4318 } }                   | test.yaml:3:32: telemetry.otlp.endpoint: '127.0.0.1:4318' is not an http URL",
            "telemetry: { otlp: { endpoint: 'http://h:4318', interval: 0s } }    | telemetry.otlp.interval: must be longer than 0",
            "telemetry: { otlp: { endpoint: 'http://h:4318', headers: [ a ] } }  | telemetry.otlp.headers: expected a mapping of names to strings, got a list",
            "telemetry: { otlp: { endpoint: 'http://h:4318', headers: { 'a b': x } } } | telemetry.otlp.headers: 'a b' is not a header name",
            "telemetry: { otlp: { endpoint: 'http://h:4318', resource: { a: [ 1 ] } } } | telemetry.otlp.resource.a: expected a string, got a list",
            "telemetry: { otlp: { endpont: 'http://h:4318' } }                   | telemetry.otlp.endpont: unknown key 'endpont' (did you mean 'endpoint'?)",
            "telemetry: { prometheus: {} }                                       | telemetry.prometheus: unknown key 'prometheus'",
    })
    void badTelemetry(String yaml, String expected) {
        assertError(yaml + "\n", expected);
    }

    @Test
    void accessLogRotation() throws Exception {
        AccessLogConfig a = parse("access-log: { output: /var/log/sluice/access.log, max-size: 100MiB, max-files: 3 }\n").accessLog();
        assertEquals(new AccessLogConfig("/var/log/sluice/access.log", 65536, 100L << 20, 3), a);
        AccessLogConfig d = parse("access-log: { output: /var/log/sluice/access.log }\n").accessLog();
        assertEquals(0, d.maxSize(), "no size rotation unless asked");
        assertEquals(AccessLogConfig.DEFAULT_MAX_FILES, d.maxFiles());
        assertNull(parse("").accessLog());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "access-log: { output: a.log, max-size: lots }       | test.yaml:3:40: access-log.max-size: 'lots' is not a size",
            "access-log: { output: a.log, max-files: 0 }         | access-log.max-files: 0 is out of range (1..1000)",
            "access-log: { max-size: 1MiB }                      | access-log.max-size: max-size needs a file output: stdout is not rotated",
    })
    void badRotation(String yaml, String expected) {
        assertError(yaml + "\n", expected);
    }
}
