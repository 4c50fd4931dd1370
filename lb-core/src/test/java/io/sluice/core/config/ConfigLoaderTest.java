package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.net.Cidr;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    private static final Function<String, String> NO_ENV = name -> null;

    /** A valid config; error tests replace one line of it. */
    private static final String BASE = """
            listeners:
              - name: public
                port: 8000
                routes:
                  - { path: /v1/, pool: vllm }
            pools:
              vllm:
                backends:
                  - url: http://127.0.0.1:8001
            """;

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "test.yaml", NO_ENV);
    }

    private static ConfigException failure(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml));
    }

    /** Asserts that the file fails with exactly one problem, whose full message line starts with {@code expected}. */
    private static ConfigException assertError(String yaml, String expected) {
        ConfigException e = failure(yaml);
        assertTrue(e.getMessage().startsWith(expected), () -> "expected: " + expected + "\nbut was:  " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
        return e;
    }

    @Test
    void poolWebSocketLimits() throws Exception {
        assertEquals(WebSocketConfig.DEFAULT, parse(BASE).pools().get("vllm").websocket());
        String ws = BASE.replace("    backends:\n", "    websocket: { idle-timeout: 90s, max-message: 64KiB, max-connections: 10 }\n    backends:\n");
        assertEquals(new WebSocketConfig(Duration.ofSeconds(90), 64 << 10, 10), parse(ws).pools().get("vllm").websocket());
        assertError(BASE.replace("    backends:\n", "    websocket: { max-connections: lots }\n    backends:\n"),
                "test.yaml:8:35: pools.vllm.websocket.max-connections:");
        assertError(BASE.replace("    backends:\n", "    websocket: { idle: 5s }\n    backends:\n"),
                "test.yaml:8:18: pools.vllm.websocket.idle:");
    }

    @Test
    void warmupIsAutoOrADurationOfAtMostFiveMinutes() throws Exception {
        assertEquals(Duration.ZERO, parse(BASE).server().warmup());
        assertEquals(Duration.ofSeconds(5), parse("server: { warmup: 5s }\n" + BASE).server().warmup());
        assertError("server: { warmup: 10m }\n" + BASE,
                "test.yaml:1:19: server.warmup: 10m is longer than the maximum, 5m");
        assertFalse(parse("server: { warmup: 5s }\n" + BASE).server().warmupUntilSettled());
        ServerConfig auto = parse("server: { warmup: auto }\n" + BASE).server();
        assertTrue(auto.warmupUntilSettled());
        assertEquals(ServerConfig.AUTO_WARMUP_CAP, auto.warmup());
        assertError("server: { warmup: soon }\n" + BASE, "test.yaml:1:19: server.warmup: 'soon' is neither auto nor a duration (examples: 250ms, 5s, 2m, 1h30m)");
    }

    @Test
    void fullExampleParsesToRecords() throws Exception {
        SluiceConfig c = ConfigLoader.load(Path.of("src/test/resources/config/full.yaml"), NO_ENV);

        assertEquals(Path.of("src/test/resources/config/full.yaml").toString(), c.source());
        assertEquals(ServerConfig.DEFAULT, c.server());
        assertEquals(List.of(new ListenerConfig("public", "0.0.0.0", 8000, 16384, 8192, Duration.ofSeconds(120), List.of(
                new RouteConfig("/v1/", "vllm", false),
                new RouteConfig("/api/", null, true)))), c.listeners());
        assertEquals(Map.of("vllm", new PoolConfig("vllm", "least-connections", Duration.ofSeconds(2), Duration.ofSeconds(300), 64,
                HealthConfig.DEFAULT, List.of(
                        new BackendConfig("gpu-a", "127.0.0.1", 8001, 1, null),
                        new BackendConfig("sim-1", "127.0.0.1", 0, 1, SimulatorConfig.DEFAULT)))), c.pools());
        assertFalse(c.pools().get("vllm").backends().get(0).isSimulated());
        assertTrue(c.pools().get("vllm").backends().get(1).isSimulated());
    }

    @Test
    void defaults() throws Exception {
        SluiceConfig c = parse("""
                listeners:
                  - port: 0
                    routes: [{ path: /, pool: p }]
                pools:
                  p:
                    backends:
                      - url: http://GPU-1.internal
                      - simulator:
                """);
        assertEquals(ServerConfig.DEFAULT, c.server());
        assertEquals(AdminConfig.DEFAULT, c.admin());
        ListenerConfig l = c.listeners().get(0);
        assertEquals(new ListenerConfig("http-0", "0.0.0.0", 0, 16 * 1024, 8 * 1024, Duration.ofSeconds(120),
                List.of(new RouteConfig("/", "p", false))), l);
        PoolConfig p = c.pools().get("p");
        assertEquals(new PoolConfig("p", "least-connections", Duration.ofSeconds(2), Duration.ofSeconds(300), 64,
                HealthConfig.DEFAULT, List.of(
                        new BackendConfig("gpu-1.internal:80", "gpu-1.internal", 80, 1, null),
                        new BackendConfig("sim-1", "127.0.0.1", 0, 1, SimulatorConfig.DEFAULT))), p);
    }

    @Test
    void everyKeyOverridden() throws Exception {
        SluiceConfig c = parse("""
                server: { transport: io_uring, io-threads: 3, shutdown-grace: 1m30s }
                listeners:
                  - { name: local, host: "::1", port: 9000, max-header-size: 32KiB, max-initial-line: 1KiB, idle-timeout: 0,
                      routes: [{ path: /api, admin: true }] }
                pools:
                  p:
                    balancer: least-connections
                    connect-timeout: 250ms
                    response-timeout: 10m
                    max-idle-per-backend: 0
                    health: { enabled: false, path: /ready, interval: 2s, timeout: 1500ms, rise: 3, fall: 5 }
                    backends:
                      - { url: "http://[::1]:8001/", weight: 1000, name: v6 }
                      - simulator: { model: m, port: 9100, ttft: 1s, itl: 0, max-tokens: 8, max-num-seqs: 1 }
                """);
        assertEquals(new ServerConfig("io_uring", 3, Duration.ofSeconds(90)), c.server());
        assertEquals(3, c.server().effectiveIoThreads());
        assertEquals(new ListenerConfig("local", "::1", 9000, 32768, 1024, Duration.ZERO, List.of(new RouteConfig("/api", null, true))),
                c.listeners().get(0));
        PoolConfig p = c.pools().get("p");
        assertEquals(Duration.ofMillis(250), p.connectTimeout());
        assertEquals(Duration.ofMinutes(10), p.responseTimeout());
        assertEquals(0, p.maxIdlePerBackend());
        assertEquals(new HealthConfig(false, "/ready", Duration.ofSeconds(2), Duration.ofMillis(1500), 3, 5), p.health());
        assertEquals(new BackendConfig("v6", "::1", 8001, 1000, null), p.backends().get(0));
        assertEquals("[::1]:8001", p.backends().get(0).address());
        assertEquals(new BackendConfig("sim-1", "127.0.0.1", 9100, 1,
                new SimulatorConfig("m", 9100, Duration.ofSeconds(1), Duration.ZERO, 8, 1)), p.backends().get(1));
    }

    @Test
    void adminSection() throws Exception {
        SluiceConfig c = ConfigLoader.parse(BASE + """
                admin: { token: "${TOK}", loopback-without-token: false, drain-timeout: 30s, scrape-interval: 250ms }
                """, "test.yaml", Map.of("TOK", "s3cret-s3cret-s3cret")::get);
        assertEquals(new AdminConfig("s3cret-s3cret-s3cret", false, Duration.ofSeconds(30), Duration.ofMillis(250),
                InferenceConfig.NONE), c.admin());
        assertFalse(c.admin().toString().contains("s3cret"), "the token never appears in toString");
        // An unset optional token means "no token": loopback clients only.
        assertFalse(parse(BASE + "admin: { token: \"${NOPE:-}\" }\n").admin().hasToken());
        ConfigException e = assertThrows(ConfigException.class, () -> parse(BASE + "admin: { token: short-secret }\n"));
        assertTrue(e.getMessage().contains("admin.token: the admin token must be at least 16"), e.getMessage());
        assertFalse(e.getMessage().contains("short-secret"), "a bad token is not echoed");
    }

    @Test
    void trustedProxiesAreAddressesOrNetworksCheckedOneByOne() throws Exception {
        assertEquals(List.of(), parse(BASE).listeners().get(0).trustedProxies());
        ListenerConfig l = parse(BASE.replace("    port: 8000",
                "    port: 8000\n    trusted-proxies: [ 10.0.0.0/8, 127.0.0.1, \"2001:db8::/32\", \"::1\" ]")).listeners().get(0);
        assertEquals(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("127.0.0.1/32"), Cidr.parse("2001:db8::/32"), Cidr.parse("::1/128")),
                l.trustedProxies());
        ConfigException e = failure(BASE.replace("    port: 8000",
                "    port: 8000\n    trusted-proxies: [ 10.0.0.1/8, proxy.example, 10.0.0.0/33 ]"));
        assertEquals(3, e.problems().size(), e::getMessage);
        assertTrue(e.getMessage().contains("test.yaml:4:24: listeners[0].trusted-proxies[0]: '10.0.0.1/8' has host bits set;"
                + " did you mean 10.0.0.0/8?"), e.getMessage());
        assertTrue(e.getMessage().contains("test.yaml:4:36: listeners[0].trusted-proxies[1]: 'proxy.example' is not an IP address"),
                e.getMessage());
        assertTrue(e.getMessage().contains("test.yaml:4:51: listeners[0].trusted-proxies[2]: '10.0.0.0/33': the prefix length must be 0..32"),
                e.getMessage());
        assertError(BASE.replace("    port: 8000", "    port: 8000\n    trusted-proxies: 10.0.0.0/8"),
                "test.yaml:4:22: listeners[0].trusted-proxies: expected a list of addresses or CIDR networks, got '10.0.0.0/8'");
    }

    @Test
    void compatSection() throws Exception {
        assertEquals(CompatConfig.NONE, parse(BASE).compat());
        assertFalse(parse(BASE).compat().enabled());
        assertEquals(new CompatConfig("127.0.0.1", 5000, "vllm", Duration.ofMillis(100), "public"),
                parse(BASE + "compat: { host: 127.0.0.1, pool: vllm, check-interval: 100ms }\n").compat(),
                "by default it mirrors the first listener with a route to its pool");
        String two = BASE.replace("pools:", """
                  - name: other
                    port: 8001
                    routes: [ { path: /x/, pool: vllm } ]
                pools:""");
        assertEquals("other", parse(two + "compat: { pool: vllm, listener: other }\n").compat().listener());
        assertError(BASE + "compat: { pool: vllm, listener: nope }\n",
                "test.yaml:10:33: compat.listener: no listener named 'nope' (listeners: public)");
        assertError(BASE + "compat: { pool: vllm, port: 8000 }\n",
                "test.yaml:10:29: compat.port: port 8000 is already used by listener 'public'");
        assertError(BASE + "compat: { pool: nope }\n", "test.yaml:10:17: compat.pool: no pool named 'nope'");
    }

    @Test
    void dnsServersAreIpLiteralsWithOptionalPorts() throws Exception {
        DnsConfig d = parse(BASE + "server: { dns: { servers: [ \"10.0.0.2\", \"127.0.0.1:5353\", \"[::1]:54\" ], query-timeout: 3s } }\n")
                .server().dns();
        assertEquals(List.of(new java.net.InetSocketAddress("10.0.0.2", 53), new java.net.InetSocketAddress("127.0.0.1", 5353),
                new java.net.InetSocketAddress("::1", 54)), d.servers());
        assertEquals(Duration.ofSeconds(3), d.queryTimeout());
        assertEquals(DnsConfig.DEFAULT, parse(BASE).server().dns());
        assertError(BASE + "server: { dns: { servers: [ \"10.0.0.2\", \"ns.example\" ] } }\n",
                "test.yaml:10:41: server.dns.servers[1]: expected an IP address with an optional port");
        assertError(BASE + "server: { dns: { servers: [ \"10.0.0.2:99999\" ] } }\n",
                "test.yaml:10:29: server.dns.servers[0]: expected an IP address");
        assertError(BASE + "server: { dns: { server: [ ] } }\n", "test.yaml:10:");
    }

    @Test
    void inferenceSection() throws Exception {
        SluiceConfig c = parse(BASE + """
                admin:
                  inference: { pool: vllm, command: "java -jar sim.jar --port {port} --model {model}", ready-timeout: 1m,
                               restart: false, restart-backoff: 250ms, output-lines: 5 }
                """);
        assertEquals(new InferenceConfig("vllm", List.of("java", "-jar", "sim.jar", "--port", "{port}", "--model", "{model}"),
                Duration.ofMinutes(1), false, Duration.ofMillis(250), 5), c.admin().inference());
        assertEquals(3, parse(BASE + "admin: { inference: { pool: vllm, max-processes: 3 } }\n").admin().inference().maxProcesses());
        assertEquals(InferenceConfig.DEFAULT_MAX_PROCESSES, parse(BASE + "admin: { inference: { pool: vllm } }\n").admin().inference().maxProcesses());
        ConfigException cap = failure(BASE + "admin: { inference: { pool: vllm, max-processes: 0 } }\n");
        assertTrue(cap.getMessage().contains("test.yaml:10:") && cap.getMessage().contains("admin.inference.max-processes"), cap.getMessage());
        assertEquals(InferenceConfig.DEFAULT_COMMAND, parse(BASE + "admin: { inference: { pool: vllm } }\n").admin().inference().command());
        assertFalse(parse(BASE).admin().inference().enabled());
        assertError(BASE + "admin: { inference: { pool: nope } }\n", "test.yaml:10:29: admin.inference.pool: no pool named 'nope' (pools: vllm)");
        ConfigException e = failure(BASE + "admin: { inference: { pool: vllm, command: \"vllm serve {model}\" } }\n");
        assertTrue(e.getMessage().contains("admin.inference.command: the command must contain {port}"), e.getMessage());
    }

    @Test
    void poolsKeepFileOrderAndRecordsAreImmutable() throws Exception {
        SluiceConfig c = parse(BASE + """
                  b: { backends: [{ url: "http://b" }] }
                  a: { backends: [{ url: "http://a" }] }
                """);
        assertEquals(List.of("vllm", "b", "a"), List.copyOf(c.pools().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> c.pools().remove("a"));
        assertThrows(UnsupportedOperationException.class, () -> c.listeners().clear());
        assertThrows(UnsupportedOperationException.class, () -> c.listeners().get(0).routes().clear());
    }

    @Test
    void routesMatchLongestPrefix() throws Exception {
        ListenerConfig l = parse("""
                listeners:
                  - port: 1
                    routes:
                      - { path: /, pool: p }
                      - { path: /v1/, pool: p }
                      - { path: /v1/admin/, admin: true }
                pools: { p: { backends: [{ url: "http://h" }] } }
                """).listeners().get(0);
        assertEquals("/v1/", l.route("/v1/chat/completions").pathPrefix());
        assertEquals("/v1/", l.route("/v1").pathPrefix());
        assertEquals("/v1/admin/", l.route("/v1/admin/x").pathPrefix());
        assertEquals("/", l.route("/v2").pathPrefix());
        RouteConfig v1 = l.routes().get(1);
        assertTrue(v1.matches("/v1/models"));
        assertFalse(v1.matches("/v1beta"));
        assertFalse(v1.matches("/v"));
        assertNull(new ListenerConfig("x", "::", 0, 1, 1, Duration.ZERO, List.of(v1)).route("/health"));
    }

    // ---- environment substitution

    @Test
    void environmentSubstitution() throws Exception {
        Map<String, String> env = Map.of("PORT", "9001", "HOST", "127.0.0.1", "EMPTY", "");
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - host: ${HOST}
                    port: ${PORT:-8000}
                    name: ${EMPTY:-pub}-$${PORT}
                    routes: [{ path: "/${NOPE:-v1}/", pool: p }]
                pools:
                  p: { backends: [{ url: "http://${UPSTREAM:-10.0.0.1:8001}" }] }
                """, "env.yaml", env::get);
        ListenerConfig l = c.listeners().get(0);
        assertEquals("127.0.0.1", l.host());
        assertEquals(9001, l.port());
        assertEquals("pub-${PORT}", l.name());
        assertEquals("/v1/", l.routes().get(0).pathPrefix());
        assertEquals(8001, c.pools().get("p").backends().get(0).port());
    }

    @Test
    void unsetVariableIsAnError() {
        assertError(BASE.replace("port: 8000", "port: ${SLUICE_PORT}"),
                "test.yaml:3:11: listeners[0].port: environment variable SLUICE_PORT is not set");
    }

    @Test
    void substitutedValueIsTypeChecked() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                BASE.replace("port: 8000", "port: ${PORT:-80x}"), "test.yaml", NO_ENV));
        assertEquals("test.yaml:3:11: listeners[0].port: expected a number, got '80x'", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "plain           | plain",
            "$$              | $",
            "a$$b$$$$        | a$b$$",
            "cost $5         | cost $5",
            "x$              | x$",
            "${A}            | a",
            "${A:-d}         | a",
            "${E:-d}         | d",
            "${E}            | ''",
            "${U:-}          | ''",
            "${U:-a:-b}      | a:-b",
            "<${A}${A}>      | <aa>",
            "$${A}           | ${A}",
    })
    void substitute(String text, String expected) {
        assertEquals(expected, ConfigLoader.substitute(text, Map.of("A", "a", "E", "")::get));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "${U}        | environment variable U is not set",
            "${A         | unterminated '${' in '${A' (write $$ for a literal $)",
            "${}         | '${}' is not a valid environment variable reference",
            "${A B:-x}   | '${A B:-x}' is not a valid environment variable reference",
    })
    void badSubstitution(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigLoader.substitute(text, Map.of("A", "a")::get));
        assertEquals(message, e.getMessage());
    }

    // ---- errors: each at the offending node

    @Test
    void messageFormatAndAccessors() {
        ConfigException e = assertError(BASE.replace("http://127.0.0.1:8001", "htp://x"),
                "test.yaml:9:14: pools.vllm.backends[0].url: 'htp://x' is not an http URL (expected http://host:port or https://host[:port])");
        assertEquals("test.yaml", e.file());
        assertEquals(9, e.line());
        assertEquals(14, e.column());
        assertEquals("pools.vllm.backends[0].url", e.path());
        assertEquals(new ConfigException.Problem("test.yaml", 9, 14, "pools.vllm.backends[0].url",
                "'htp://x' is not an http URL (expected http://host:port or https://host[:port])"), e.problems().get(0));
    }

    @Test
    void unknownKeys() {
        assertError(BASE.replace("name: public", "nmae: public"),
                "test.yaml:2:5: listeners[0].nmae: unknown key 'nmae' (did you mean 'name'?)");
        assertEquals("""
                test.yaml:2:5: listeners[0]: missing required key 'port'
                test.yaml:3:5: listeners[0].prot: unknown key 'prot' (did you mean 'port'?)""",
                failure(BASE.replace("port: 8000", "prot: 8000")).getMessage());
        assertError(BASE + "    health: { intervall: 5s }\n",
                "test.yaml:10:15: pools.vllm.health.intervall: unknown key 'intervall' (did you mean 'interval'?)");
        assertError(BASE + "tls: on\n",
                "test.yaml:10:1: tls: unknown key 'tls' (expected one of: server, listeners, pools, access-log, admin, compat, models, providers, model-groups, services, telemetry)");
        assertError(BASE.replace("name: public", "id: public"), "test.yaml:2:5: listeners[0].id: unknown key 'id' (expected one of:");
    }

    @Test
    void wrongTypes() {
        assertError(BASE.replace("port: 8000", "port: eighty"), "test.yaml:3:11: listeners[0].port: expected a number, got 'eighty'");
        assertError(BASE.replace("port: 8000", "port: [8000]"), "test.yaml:3:11: listeners[0].port: expected a number, got a list");
        assertError(BASE.replace("name: public", "name: { a: 1 }"), "test.yaml:2:11: listeners[0].name: expected a string, got a mapping");
        assertError("""
                listeners:
                  - port: 8000
                    routes: /v1/
                """, "test.yaml:3:13: listeners[0].routes: expected a list, got '/v1/'");
        assertError(BASE + "    health: { enabled: yes }\n", "test.yaml:10:24: pools.vllm.health.enabled: expected true or false, got 'yes'");
        assertError(BASE + "    health: 5s\n", "test.yaml:10:13: pools.vllm.health: expected a mapping, got '5s'");
        assertError(BASE.replace("pools:\n  vllm:", "pools:\n  - vllm:"), "test.yaml:7:3: pools: expected a mapping of pool names to pools, got a list");
        assertError("- port: 8000\n", "test.yaml:1:1: expected a mapping, got a list");
    }

    @Test
    void badDurationsAndSizes() {
        assertError(BASE + "    connect-timeout: 2 s\n",
                "test.yaml:10:22: pools.vllm.connect-timeout: '2 s' is not a duration (examples: 250ms, 5s, 2m, 1h30m)");
        assertError(BASE + "    connect-timeout: 0s\n", "test.yaml:10:22: pools.vllm.connect-timeout: must be longer than 0");
        assertError(BASE.replace("port: 8000", "port: 8000\n    max-header-size: 16KB/s"),
                "test.yaml:4:22: listeners[0].max-header-size: '16KB/s' is not a size");
        assertError(BASE.replace("port: 8000", "port: 8000\n    max-initial-line: 4GiB"),
                "test.yaml:4:23: listeners[0].max-initial-line: '4GiB' is out of range (1 byte..2GiB)");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "port: 70000        | 3:11: listeners[0].port: 70000 is out of range (0..65535)",
            "port: -1           | 3:11: listeners[0].port: -1 is out of range (0..65535)",
            "host: example.com  | 3:11: listeners[0].host: 'example.com' is not a literal IP address or localhost",
            "host: 10.0.0.256   | 3:11: listeners[0].host: '10.0.0.256' is not a literal IP address or localhost",
            "host: ':::1'       | 3:11: listeners[0].host: ':::1' is not a literal IP address or localhost",
    })
    void badListenerValues(String line, String expected) {
        assertError(BASE.replace("port: 8000", line.startsWith("host") ? line + "\n    port: 8000" : line), "test.yaml:" + expected);
    }

    @Test
    void listenerHostsThatAreFine() throws Exception {
        for (String host : List.of("localhost", "127.0.0.1", "'::'", "0.0.0.0", "'fe80::1'", "'::ffff:10.0.0.1'")) {
            assertEquals(host.replace("'", ""), parse(BASE.replace("port: 8000", "host: " + host + "\n    port: 8000")).listeners().get(0).host());
        }
    }

    private static final String TWO_LISTENERS = """
            listeners:
              - name: a
                host: HOST_A
                port: 8000
                routes: [{ path: /, pool: p }]
              - name: NAME_B
                host: HOST_B
                port: 8000
                routes: [{ path: /, pool: p }]
            pools: { p: { backends: [{ url: "http://h" }] } }
            """;

    @ParameterizedTest
    @CsvSource({"0.0.0.0, 0.0.0.0", "127.0.0.1, 127.0.0.1", "0.0.0.0, 127.0.0.1", "127.0.0.1, '\"::\"'", "localhost, 127.0.0.1", "'\"::1\"', '0:0:0:0:0:0:0:1'"})
    void duplicateListenerPort(String a, String b) {
        assertError(TWO_LISTENERS.replace("HOST_A", a).replace("HOST_B", b).replace("NAME_B", "b"),
                "test.yaml:8:11: listeners[1].port: port 8000 is already used by listener 'a' (line 2)");
    }

    @Test
    void samePortOnDistinctAddressesOrEphemeralIsFine() throws Exception {
        assertEquals(2, parse(TWO_LISTENERS.replace("HOST_A", "127.0.0.1").replace("HOST_B", "127.0.0.2").replace("NAME_B", "b")).listeners().size());
        assertEquals(2, parse(TWO_LISTENERS.replace("HOST_A", "'::'").replace("HOST_B", "'::'").replace("NAME_B", "b")
                .replace("port: 8000", "port: 0")).listeners().size());
    }

    @Test
    void duplicateListenerNames() {
        assertError(TWO_LISTENERS.replace("HOST_A", "127.0.0.1").replace("HOST_B", "127.0.0.2").replace("NAME_B", "a"),
                "test.yaml:6:11: listeners[1].name: duplicate listener name 'a' (line 2)");
        assertError(TWO_LISTENERS.replace("HOST_A", "127.0.0.1").replace("HOST_B", "127.0.0.2").replace("  - name: a\n", "  -\n")
                        .replace("  - name: NAME_B\n", "  -\n"),
                "test.yaml:7:5: listeners[1].name: duplicate listener name 'http-8000' (line 3); give the listeners distinct name: values");
    }

    @Test
    void missingPool() {
        assertError(BASE.replace("pool: vllm", "pool: vlm"), "test.yaml:5:29: listeners[0].routes[0].pool: no pool named 'vlm' (pools: vllm)");
        assertError("""
                listeners:
                  - port: 8000
                    routes: [{ path: /, pool: p }]
                """, "test.yaml:3:31: listeners[0].routes[0].pool: no pool named 'p' (no pools are defined)");
    }

    @Test
    void badRoutes() {
        assertError(BASE.replace("pool: vllm", "admin: false"),
                "test.yaml:5:9: listeners[0].routes[0]: a route needs either pool: NAME or admin: true");
        assertError(BASE.replace("pool: vllm", "pool: vllm, admin: true"),
                "test.yaml:5:9: listeners[0].routes[0]: a route needs either pool: NAME or admin: true, not both");
        assertError(BASE.replace("path: /v1/, ", ""), "test.yaml:5:9: listeners[0].routes[0]: missing required key 'path'");
        assertError(BASE.replace("path: /v1/", "path: v1/"), "test.yaml:5:17: listeners[0].routes[0].path: 'v1/' must start with '/'");
        assertError(BASE.replace("      - { path: /v1/, pool: vllm }", "      - { path: /v1/, pool: vllm }\n      - { path: /v1/, admin: true }"),
                "test.yaml:6:17: listeners[0].routes[1].path: duplicate route path '/v1/' (line 5)");
    }

    @Test
    void listenersAndRoutesAreRequired() {
        assertError("pools: {}\n", "test.yaml:1:1: listeners: no listeners (at least one is required)");
        assertError("listeners: []\n", "test.yaml:1:12: listeners: no listeners (at least one is required)");
        assertError("listeners:\n", "test.yaml:1:1: listeners: no listeners (at least one is required)");
        assertError(BASE.replace("    routes:\n      - { path: /v1/, pool: vllm }\n", ""),
                "test.yaml:2:5: listeners[0].routes: a listener needs at least one route");
        assertError(BASE.replace("    routes:\n      - { path: /v1/, pool: vllm }\n", "    routes: []\n"),
                "test.yaml:4:13: listeners[0].routes: a listener needs at least one route");
        assertError(BASE.replace("    port: 8000\n", ""), "test.yaml:2:5: listeners[0]: missing required key 'port'");
    }

    @Test
    void poolWithoutBackends() {
        assertError(BASE.replace("    backends:\n      - url: http://127.0.0.1:8001\n", "    balancer: least-connections\n"),
                "test.yaml:7:3: pools.vllm.backends: pool 'vllm' has no backends");
        assertError(BASE.replace("    backends:\n      - url: http://127.0.0.1:8001\n", "    backends: []\n"),
                "test.yaml:8:15: pools.vllm.backends: pool 'vllm' has no backends");
        assertError(BASE.replace("  vllm:\n    backends:\n      - url: http://127.0.0.1:8001\n", "  vllm:\n"),
                "test.yaml:7:3: pools.vllm.backends: pool 'vllm' has no backends");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "htp://x               | 'htp://x' is not an http URL (expected http://host:port or https://host[:port])",
            "127.0.0.1:8001        | '127.0.0.1:8001' is not an http URL (expected http://host:port or https://host[:port])",
            "http://               | 'http://' is not an http URL (expected http://host:port or https://host[:port])",
            "http://:8001          | 'http://:8001' is not an http URL (expected http://host:port or https://host[:port])",
            "http://u@h:8001       | 'http://u@h:8001' is not an http URL (expected http://host:port or https://host[:port])",
            "ftp://h:21            | 'ftp://h:21' is not an http URL (expected http://host:port or https://host[:port])",
            "http://h:0            | 'http://h:0': port 0 is out of range (1..65535)",
            "http://h:65536        | 'http://h:65536': port 65536 is out of range (1..65535)",
            "http://h:8001/v1      | 'http://h:8001/v1' must not have a path or query (expected http://host:port or https://host[:port])",
            "http://h:8001/?a=b    | 'http://h:8001/?a=b' must not have a path or query (expected http://host:port or https://host[:port])",
    })
    void badUrls(String url, String message) {
        assertError(BASE.replace("http://127.0.0.1:8001", url), "test.yaml:9:14: pools.vllm.backends[0].url: " + message);
    }

    @Test
    void simulatorKvCacheAndBatching() throws Exception {
        SluiceConfig c = parse(BASE
                + "      - simulator: { kv-blocks: 512, prefill-per-token: 300us, batch-slowdown: 0.05, prefix-caching: false }\n"
                + "      - simulator: {}\n");
        SimulatorConfig set = c.pools().get("vllm").backends().get(1).simulator();
        assertEquals(512, set.kvBlocks());
        assertEquals(Duration.ofNanos(300_000), set.prefillPerToken());
        assertEquals(0.05, set.batchSlowdown());
        assertFalse(set.prefixCaching());
        SimulatorConfig defaults = c.pools().get("vllm").backends().get(2).simulator();
        assertEquals(SimulatorConfig.DEFAULT_KV_BLOCKS, defaults.kvBlocks());
        assertEquals(SimulatorConfig.DEFAULT_PREFILL_PER_TOKEN, defaults.prefillPerToken());
        assertEquals(SimulatorConfig.DEFAULT_BATCH_SLOWDOWN, defaults.batchSlowdown());
        assertTrue(defaults.prefixCaching());
    }

    @Test
    void badBackends() {
        assertError(BASE + "      - url: http://127.0.0.1:8001\n",
                "test.yaml:10:14: pools.vllm.backends[1].url: duplicate backend 127.0.0.1:8001 (also at line 9)");
        assertError(BASE + "      - { url: http://127.0.0.2:8001, name: 127.0.0.1:8001 }\n",
                "test.yaml:10:45: pools.vllm.backends[1].name: duplicate backend name '127.0.0.1:8001' (also at line 9)");
        assertError(BASE + "        weight: 0\n", "test.yaml:10:17: pools.vllm.backends[0].weight: 0 is out of range (1..1000)");
        assertError(BASE + "        weight: 1001\n", "test.yaml:10:17: pools.vllm.backends[0].weight: 1001 is out of range (1..1000)");
        assertError(BASE + "        simulator: { model: demo }\n",
                "test.yaml:9:9: pools.vllm.backends[0]: a backend needs either url: or simulator:, not both");
        assertError(BASE + "      - weight: 2\n",
                "test.yaml:10:9: pools.vllm.backends[1]: a backend needs either url: http://host:port or simulator:");
        assertError(BASE + "      - simulator: { max-tokens: 0 }\n",
                "test.yaml:10:34: pools.vllm.backends[1].simulator.max-tokens: must be at least 1, got 0");
        assertError(BASE + "      - simulator: { batch-slowdown: 11 }\n",
                "test.yaml:10:38: pools.vllm.backends[1].simulator.batch-slowdown: 11 is out of range (0.0..10.0)");
        assertError(BASE + "      - simulator: { kv-blocks: 0 }\n",
                "test.yaml:10:33: pools.vllm.backends[1].simulator.kv-blocks: must be at least 1, got 0");
        assertError(BASE + "      - simulator: { prefix-caching: maybe }\n",
                "test.yaml:10:38: pools.vllm.backends[1].simulator.prefix-caching: expected true or false, got 'maybe'");
        assertError(BASE + "      - simulator: { port: 9100 }\n      - simulator: { port: 9100 }\n",
                "test.yaml:11:28: pools.vllm.backends[2].simulator.port: duplicate backend 127.0.0.1:9100 (also at line 10)");
    }

    @Test
    void routingBlockOfAPool() throws Exception {
        assertEquals(RoutingConfig.DEFAULT, parse(BASE).pools().get("vllm").routing());
        RoutingConfig r = parse(BASE + "    balancer: prefix-affinity\n"
                + "    routing: { load-factor: 1.5, prefix-blocks: 8, block-chars: 128, session-header: X-Conv, stale-after: 2s }\n")
                .pools().get("vllm").routing();
        assertEquals(new RoutingConfig(1.5, 8, 128, "x-conv", Duration.ofSeconds(2), 4, 1, 4), r);
        assertError(BASE + "    routing: { load-factor: 0.5 }\n",
                "test.yaml:10:29: pools.vllm.routing.load-factor: 0.5 is out of range (1.0..100.0)");
        assertError(BASE + "    routing: { prefix-block: 8 }\n",
                "test.yaml:10:16: pools.vllm.routing.prefix-block: unknown key 'prefix-block' (did you mean 'prefix-blocks'?)");
    }

    @Test
    void badPoolSettings() {
        assertError(BASE + "    balancer: random\n",
                "test.yaml:10:15: pools.vllm.balancer: balancer 'random' is not supported (least-connections, round-robin, power-of-two, prefix-affinity, session, load-aware)");
        assertError("server:\n  transport: kqueue\n" + BASE,
                "test.yaml:2:14: server.transport: transport 'kqueue' is not supported (auto, epoll, io_uring, nio)");
        assertError(BASE + "    health:\n      interval: 1s\n      timeout: 1s\n",
                "test.yaml:12:16: pools.vllm.health.timeout: timeout 1s must be shorter than interval 1s");
        assertError(BASE + "    health:\n      interval: 500ms\n",
                "test.yaml:11:17: pools.vllm.health.interval: timeout 1s must be shorter than interval 500ms");
        assertError(BASE + "    health: { rise: 0 }\n", "test.yaml:10:21: pools.vllm.health.rise: 0 is out of range (1..1000)");
        assertError(BASE + "    health: { path: health }\n", "test.yaml:10:21: pools.vllm.health.path: 'health' must start with '/'");
    }

    @Test
    void unreferencedPoolsAreAllowed() throws Exception {
        assertEquals(2, parse(BASE + "  spare:\n    backends: [{ url: \"http://10.0.0.9\" }]\n").pools().size());
    }

    @Test
    void severalErrorsAreReportedTogetherInFileOrder() {
        ConfigException e = failure("""
                server:
                  io-threads: many
                listeners:
                  - port: 80000
                    routes:
                      - { path: /v1/, pool: vlm }
                pools:
                  vllm:
                    backends:
                      - url: htp://x
                        wieght: 2
                """);
        assertEquals("""
                test.yaml:2:15: server.io-threads: expected a number, got 'many'
                test.yaml:4:11: listeners[0].port: 80000 is out of range (0..65535)
                test.yaml:6:29: listeners[0].routes[0].pool: no pool named 'vlm' (pools: vllm)
                test.yaml:10:14: pools.vllm.backends[0].url: 'htp://x' is not an http URL (expected http://host:port or https://host[:port])
                test.yaml:11:9: pools.vllm.backends[0].wieght: unknown key 'wieght' (did you mean 'weight'?)""", e.getMessage());
        assertEquals(5, e.problems().size());
        assertEquals(2, e.line());
    }

    @Test
    void yamlSyntaxError() {
        ConfigException e = failure(BASE.replace("    port: 8000", "    port: 8000\n   name: x"));
        assertEquals(4, e.line());
        assertEquals(4, e.column());
        assertEquals("test.yaml:4:4: YAML syntax error: expected <block end>, but found '<block mapping start>'"
                + " while parsing a block collection started at line 2, column 3", e.getMessage());
        assertTrue(e.getCause() != null);

        ConfigException quote = failure("listeners:\n  - name: 'public\n    port: 1\n");
        assertEquals("test.yaml:4:1: YAML syntax error: found unexpected end of stream while scanning a quoted scalar started at line 2, column 11",
                quote.getMessage());
    }

    @Test
    void otherDocumentProblems() {
        assertError(BASE.replace("    port: 8000\n", "    port: 8000\n    port: 8001\n"),
                "test.yaml:4:5: listeners[0].port: duplicate key 'port' (first at line 3)");
        assertError(BASE.replace("    port: 8000\n", "    port: &p 8000\n    max-header-size: *p\n"),
                "test.yaml:4:22: listeners[0].max-header-size: YAML aliases (*p) are not supported");
        assertError(BASE + "---\nlisteners: []\n", "test.yaml:11:1: only one YAML document is allowed");
        assertEquals("test.yaml: the file is empty (at least listeners: is required)", failure("# nothing\n").getMessage());
    }

    @Test
    void missingFile() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Path.of("no/such.yaml")));
        assertEquals(Path.of("no/such.yaml") + ": no such file", e.getMessage());
        assertEquals(0, e.line());
    }

    @Test
    void suggestions() {
        List<String> keys = List.of("interval", "timeout", "rise", "fall", "itl", "port");
        assertEquals("interval", ConfigLoader.closest("intervall", keys));
        assertEquals("interval", ConfigLoader.closest("Interval", keys));
        assertEquals("timeout", ConfigLoader.closest("time-out", keys));
        assertEquals("port", ConfigLoader.closest("prot", keys));
        assertNull(ConfigLoader.closest("id", keys));
        assertNull(ConfigLoader.closest("weight", keys));
        assertEquals(3, ConfigLoader.distance("kitten", "sitting"));
    }

    /** The shipped files must always load: they are the documentation people copy from. */
    @Test
    void shippedConfigFilesLoad() throws Exception {
        SluiceConfig demo = ConfigLoader.load(Path.of("../config/sluice.yaml"), NO_ENV);
        ListenerConfig l = demo.listeners().get(0);
        assertEquals("public", l.name());
        assertEquals(8000, l.port());
        assertEquals(List.of(new RouteConfig("/v1/", "vllm", false), new RouteConfig("/api/", null, true),
                new RouteConfig("/metrics", null, true)), l.routes());
        assertEquals(AdminConfig.DEFAULT, demo.admin(), "no token unless SLUICE_ADMIN_TOKEN is set: loopback only");
        PoolConfig vllm = demo.pools().get("vllm");
        assertEquals(HealthConfig.DEFAULT, vllm.health());
        assertEquals(2, vllm.backends().size());
        assertTrue(vllm.backends().stream().allMatch(BackendConfig::isSimulated));
        assertEquals(9000, ConfigLoader.load(Path.of("../config/sluice.yaml"), Map.of("SLUICE_PORT", "9000")::get).listeners().get(0).port());

        SluiceConfig real = ConfigLoader.load(Path.of("../config/vllm.yaml"), NO_ENV);
        assertEquals(List.of(new BackendConfig("127.0.0.1:8001", "127.0.0.1", 8001, 1, null)), real.pools().get("vllm").backends());
        assertEquals("10.1.2.3", ConfigLoader.load(Path.of("../config/vllm.yaml"), Map.of("VLLM_URL", "http://10.1.2.3:8000")::get)
                .pools().get("vllm").backends().get(0).host());
    }
}
