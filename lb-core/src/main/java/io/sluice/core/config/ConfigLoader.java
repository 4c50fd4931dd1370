package io.sluice.core.config;

import io.sluice.core.config.ConfigException.Problem;
import io.sluice.core.config.YamlTree.Entry;
import io.sluice.core.config.YamlTree.ListNode;
import io.sluice.core.config.YamlTree.MapNode;
import io.sluice.core.config.YamlTree.Node;
import io.sluice.core.config.YamlTree.Scalar;
import io.sluice.core.net.Cidr;
import io.sluice.core.provider.WireFormat;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code sluice.yaml} into a validated {@link SluiceConfig}.
 *
 * <p>Binding is by hand over {@link YamlTree} so that every error names the file, line, column and
 * field path. A bad value is reported and replaced by its default so binding goes on and one run
 * reports every problem; the result is only returned when there were none.
 */
public final class ConfigLoader {
    static final List<String> TRANSPORTS = List.of("auto", "epoll", "io_uring", "nio");
    static final List<String> BALANCERS = io.sluice.core.balance.BalancePolicies.names();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ConfigLoader.class);

    private static final Pattern VAR = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final String source;
    private final Function<String, String> env;
    private final List<Problem> problems = new ArrayList<>();
    /** Every pool name in the file, bound or not, so a broken pool does not also break its routes; null if pools: is unusable. */
    private Set<String> poolNames = new LinkedHashSet<>();
    /** Declared model to the pool that serves it, in file order. */
    private final Map<String, String> modelPools = new LinkedHashMap<>();
    /** Alias to the real model it leads to, for aliases that resolved. */
    private final Map<String, String> resolvedAliases = new HashMap<>();
    /** Aliases that were reported as broken, so a route forcing one is not reported a second time. */
    private final Set<String> brokenAliases = new HashSet<>();

    private ConfigLoader(String source, Function<String, String> env) {
        this.source = source;
        this.env = env;
    }

    public static SluiceConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /** @param env environment lookup returning null for unset variables (injectable for tests) */
    public static SluiceConfig load(Path file, Function<String, String> env) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            String why = e instanceof NoSuchFileException ? "no such file" : "cannot read (" + e + ")";
            throw new ConfigException(List.of(new Problem(file.toString(), 0, 0, "", why)), e);
        }
        return parse(yaml, file.toString(), env);
    }

    /** @param sourceName the file name used in error messages and {@link SluiceConfig#source()} */
    public static SluiceConfig parse(String yaml, String sourceName, Function<String, String> env) throws ConfigException {
        ConfigLoader loader = new ConfigLoader(sourceName, env);
        SluiceConfig config = loader.config(YamlTree.read(yaml, sourceName, loader.problems));
        if (!loader.problems.isEmpty()) {
            loader.problems.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
            throw new ConfigException(loader.problems);
        }
        return config;
    }

    // ---- sections

    private SluiceConfig config(Node root) {
        if (root == null) {
            problem(0, 0, "", "the file is empty (at least listeners: is required)");
            return null;
        }
        Obj top = obj(root, "", root.line(), root.column(), "server", "listeners", "pools", "access-log", "admin", "compat",
                "models", "providers", "model-groups", "services", "telemetry");
        if (top == null) {
            return null;
        }
        Obj s = child(top, "server", "transport", "io-threads", "shutdown-grace", "max-connections", "warmup", "dns",
                "provider-check-interval", "provider-check-timeout");
        ServerConfig server = s == null ? ServerConfig.DEFAULT : new ServerConfig(
                value(s, "transport", "auto", "a string", oneOf("transport", TRANSPORTS)),
                value(s, "io-threads", 0, "a number", integer(0, 4096)),
                value(s, "shutdown-grace", ServerConfig.DEFAULT.shutdownGrace(), "a duration", duration(false)),
                value(s, "max-connections", 0, "a number", integer(0, 10_000_000)),
                autoWarmup(s) ? ServerConfig.AUTO_WARMUP_CAP : value(s, "warmup", Duration.ZERO, "a duration or auto",
                        text -> {
                            try {
                                return atMost(ServerConfig.MAX_WARMUP).apply(text);
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException(e.getMessage().replace("is not a duration", "is neither auto nor a duration"));
                            }
                        }),
                dns(s),
                value(s, "provider-check-interval", ServerConfig.DEFAULT_PROVIDER_CHECK_INTERVAL, "a duration", duration(false)),
                value(s, "provider-check-timeout", ServerConfig.DEFAULT_PROVIDER_CHECK_TIMEOUT, "a duration", duration(true)),
                autoWarmup(s));
        Map<String, PoolConfig> pools = pools(top);
        ModelsConfig models = models(top); // after the pools (what they serve), before the routes (what they force)
        providers(top, pools); // adds a pool per provider with a base URL, before the routes that name them
        spillChecks.forEach(Runnable::run);
        Map<String, ModelGroupConfig> groups = modelGroups(top);
        services = services(top); // before the routes that name them
        List<ListenerConfig> listeners = listeners(top);
        AccessLogConfig accessLog = null;
        if (top.entries.containsKey("access-log")) { // "access-log:" alone means stdout
            Obj a = child(top, "access-log", "output", "queue-size", "max-size", "max-files");
            if (a != null) {
                String output = value(a, "output", "stdout", "stdout or a file path", ConfigLoader::nonEmpty);
                long maxSize = value(a, "max-size", 0L, "a size such as 100MiB", s2 -> Sizes.parse(s2));
                if (maxSize > 0 && output.equals("stdout")) {
                    problem(a.get("max-size"), a.path("max-size"), "max-size needs a file output: stdout is not rotated");
                }
                accessLog = new AccessLogConfig(output, value(a, "queue-size", 65536, "a number", integer(16, 1 << 24)),
                        maxSize, value(a, "max-files", AccessLogConfig.DEFAULT_MAX_FILES, "a number", integer(1, 1000)));
            }
        }
        Obj a = child(top, "admin", "token", "loopback-without-token", "drain-timeout", "scrape-interval", "inference",
                "allowed-hosts");
        AdminConfig admin = a == null ? AdminConfig.DEFAULT : new AdminConfig(
                value(a, "token", "", "a string", ConfigLoader::token),
                value(a, "loopback-without-token", true, "true or false", ConfigLoader::bool),
                value(a, "drain-timeout", AdminConfig.DEFAULT.drainTimeout(), "a duration", duration(true)),
                value(a, "scrape-interval", AdminConfig.DEFAULT.scrapeInterval(), "a duration", duration(false)),
                a == null ? InferenceConfig.NONE : inference(a),
                a == null ? List.of() : strings(a, "allowed-hosts", List.of()));
        return new SluiceConfig(server, listeners, pools, admin, compat(top, listeners), source, accessLog, models,
                providers, groups, services, telemetry(top));
    }

    // ---- telemetry

    /** {@code telemetry: { otlp: { endpoint, interval, timeout, headers, resource } }}. */
    private TelemetryConfig telemetry(Obj top) {
        if (!top.has("telemetry")) {
            return TelemetryConfig.NONE;
        }
        Obj t = child(top, "telemetry", "otlp");
        if (t == null || !t.has("otlp")) {
            return TelemetryConfig.NONE;
        }
        Obj o = child(t, "otlp", "endpoint", "interval", "timeout", "headers", "resource");
        if (o == null) {
            return TelemetryConfig.NONE;
        }
        if (!o.has("endpoint")) {
            missing(o, "endpoint");
            return TelemetryConfig.NONE;
        }
        URI endpoint = value(o, "endpoint", null, "a URL such as http://127.0.0.1:4318", ConfigLoader::baseUrl);
        Duration interval = value(o, "interval", Duration.ofSeconds(10), "a duration", duration(true));
        Duration timeout = value(o, "timeout", Duration.ofSeconds(10), "a duration", duration(true));
        Map<String, String> headers = stringMap(o, "headers");
        headers.keySet().stream().filter(k -> !k.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")).findFirst()
                .ifPresent(k -> problem(o.get("headers"), o.path("headers"), "'" + k + "' is not a header name"));
        Map<String, String> resource = stringMap(o, "resource");
        return endpoint == null ? TelemetryConfig.NONE
                : new TelemetryConfig(new TelemetryConfig.Otlp(endpoint, interval, timeout, headers, resource));
    }

    /** A mapping of names to strings (substituted, so a secret can come from the environment). */
    private Map<String, String> stringMap(Obj parent, String key) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!parent.has(key)) {
            return out;
        }
        Node n = parent.get(key);
        if (!(n instanceof MapNode m)) {
            problem(n, parent.path(key), "expected a mapping of names to strings, got " + describe(n));
            return out;
        }
        for (Entry e : m.entries().values()) {
            if (!(e.value() instanceof Scalar sc) || sc.text() == null) {
                problem(e.value(), parent.path(key) + "." + e.key(), "expected a string, got " + describe(e.value()));
                continue;
            }
            out.put(e.key(), substitute(sc.text(), env));
        }
        return out;
    }

    // ---- providers

    /** Provider names Sluice knows, with their wire format; another name needs {@code format:}. */
    private static final Map<String, WireFormat> KNOWN_PROVIDERS = Map.of("openai", WireFormat.OPENAI,
            "anthropic", WireFormat.ANTHROPIC, "gemini", WireFormat.GEMINI, "groq", WireFormat.OPENAI,
            "huggingface", WireFormat.OPENAI, "ollama", WireFormat.OLLAMA, "local", WireFormat.OLLAMA,
            "lmstudio", WireFormat.OPENAI, "vllm", WireFormat.OPENAI);
    /** Cloud providers: without a key they are not configured. */
    private static final Set<String> KEYED_PROVIDERS = Set.of("openai", "anthropic", "gemini", "groq", "huggingface");

    private final Map<String, ProviderConfig> providers = new LinkedHashMap<>();

    /**
     * {@code providers.<name>}: exactly one of {@code base-url} (a pool {@code @<name>} is made for it),
     * {@code pool} (a pool of the file, e.g. vLLM's) or {@code simulator} (in-process, for demos and tests).
     */
    private void providers(Obj top, Map<String, PoolConfig> pools) {
        Node n = top.get("providers");
        if (n == null) {
            return;
        }
        if (!(n instanceof MapNode m)) {
            problem(n, "providers", "expected a mapping of provider names to providers, got " + describe(n));
            return;
        }
        for (Entry e : m.entries().values()) {
            String name = e.key();
            Obj o = obj(e.value(), "providers." + name, e.line(), e.column(), "format", "base-url", "api-key", "pool",
                    "simulator", "key-required", "anthropic-version", "connect-timeout", "response-timeout",
                    "stream-idle-timeout", "max-in-flight", "tls", "auto-start", "auto-start-command");
            if (o == null) {
                continue;
            }
            if (!name.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
                problem(o, "provider name '" + name + "' must be lower-case letters, digits, - or _ (it is a path segment: /api/"
                        + name + "/)");
                continue;
            }
            WireFormat format = value(o, "format", KNOWN_PROVIDERS.get(name), "openai, anthropic, gemini or ollama",
                    ConfigLoader::wireFormat);
            if (format == null) {
                problem(o, "provider '" + name + "' needs format: openai, anthropic, gemini or ollama (its name is not one Sluice knows: "
                        + String.join(", ", new java.util.TreeSet<>(KNOWN_PROVIDERS.keySet())) + ")");
                continue;
            }
            boolean sim = o.entries.containsKey("simulator");
            int sources = (o.has("base-url") ? 1 : 0) + (o.has("pool") ? 1 : 0) + (sim ? 1 : 0);
            if (sources != 1) {
                problem(o, "a provider needs exactly one of base-url:, pool: or simulator:");
                continue;
            }
            String key = value(o, "api-key", "", "a string", String::strip);
            boolean needsKey = value(o, "key-required", KEYED_PROVIDERS.contains(name), "true or false", ConfigLoader::bool);
            String version = format == WireFormat.ANTHROPIC
                    ? value(o, "anthropic-version", "2023-06-01", "a date such as 2023-06-01", ConfigLoader::nonEmpty) : null;
            String pool = ProviderConfig.poolName(name);
            if (o.has("pool")) {
                String named = value(o, "pool", null, "a pool name", ConfigLoader::nonEmpty);
                if (named == null) {
                    continue;
                }
                if (poolNames != null && !poolNames.contains(named)) {
                    problem(o.get("pool"), o.path("pool"), "no pool named '" + named + "'");
                    continue;
                }
                if (format != WireFormat.OPENAI) {
                    problem(o.get("pool"), o.path("pool"), "a provider on a pool speaks the OpenAI API (format: openai)");
                    continue;
                }
                autoStart(o, format, true); // refused: Sluice starts nothing for a pool of the file
                providers.put(name, new ProviderConfig(name, format, named, "/v1", "pool " + named, key, needsKey, version, null));
                continue;
            }
            String host;
            int port;
            boolean tls;
            String basePath;
            String baseUrl;
            ProviderConfig.ProviderSimulatorConfig simulator = null;
            if (sim) {
                Obj so = child(o, "simulator", "api-key", "port", "ttft", "itl");
                if (so == null) {
                    continue;
                }
                simulator = new ProviderConfig.ProviderSimulatorConfig(value(so, "api-key", "sim-key", "a string", ConfigLoader::nonEmpty),
                        value(so, "port", 0, "a number", integer(0, 65535)),
                        value(so, "ttft", Duration.ofMillis(20), "a duration", duration(false)),
                        value(so, "itl", Duration.ofMillis(5), "a duration", duration(false)));
                if (!o.has("api-key")) {
                    key = simulator.apiKey(); // the demo works without a key of its own
                }
                host = "127.0.0.1";
                port = simulator.port();
                tls = false;
                basePath = format == WireFormat.OPENAI ? "/v1" : "";
                baseUrl = "simulator (" + format.name().toLowerCase(Locale.ROOT) + ")";
            } else {
                URI url = value(o, "base-url", null, "a URL", ConfigLoader::baseUrl);
                if (url == null) {
                    continue;
                }
                host = url.getHost().replaceAll("^\\[|\\]$", "").toLowerCase(Locale.ROOT);
                tls = "https".equalsIgnoreCase(url.getScheme());
                port = url.getPort() < 0 ? (tls ? 443 : 80) : url.getPort();
                basePath = url.getRawPath();
                baseUrl = url.toString();
            }
            UpstreamTlsConfig tlsConfig = o.entries.containsKey("tls") ? upstreamTls(o) : UpstreamTlsConfig.DEFAULT;
            RetryConfig rd = RetryConfig.DEFAULT;
            // One backend: a retry would meet the same server (a group's fallback is the retry); no outlier
            // ejection (one 5xx would block the provider), no health checks (a provider has no /health; /api/health probes it).
            PoolConfig pc = new PoolConfig(pool, "least-connections",
                    value(o, "connect-timeout", Duration.ofSeconds(5), "a duration", duration(true)),
                    value(o, "response-timeout", Duration.ofSeconds(300), "a duration", duration(true)),
                    16, new HealthConfig(false, "/", Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 2),
                    List.of(new BackendConfig(name, host, port, 1, null, tls)),
                    value(o, "stream-idle-timeout", Duration.ofSeconds(120), "a duration", duration(true)),
                    Duration.ofMinutes(30), new RetryConfig(0, rd.budgetPercent(), false, rd.replayBodyLimit()),
                    new OutlierConfig(false, OutlierConfig.DEFAULT.consecutiveFailures(), OutlierConfig.DEFAULT.ejection(),
                            OutlierConfig.DEFAULT.maxEjection()),
                    value(o, "max-in-flight", 0, "a number", integer(0, 1_000_000)), 0, Duration.ofSeconds(30),
                    List.of(), HeaderRules.NONE, tlsConfig, PoolConfig.HOST_BACKEND);
            if (pools.containsKey(pool)) {
                problem(o, "pool name '" + pool + "' is taken by a pool of the file");
                continue;
            }
            pools.put(pool, pc);
            if (poolNames != null) {
                poolNames.add(pool);
            }
            providers.put(name, new ProviderConfig(name, format, pool, basePath, baseUrl, key, needsKey, version, simulator,
                    autoStart(o, format, sim)));
        }
    }

    /**
     * {@code auto-start: true} (an Ollama with a base URL only): the command Sluice runs and supervises,
     * {@code auto-start-command} or {@code ollama serve}; empty for none.
     */
    private List<String> autoStart(Obj o, WireFormat format, boolean noBaseUrl) {
        boolean on = value(o, "auto-start", false, "true or false", ConfigLoader::bool);
        List<String> command = value(o, "auto-start-command", ProviderConfig.OLLAMA_SERVE, "a command line",
                c -> List.of(c.strip().split("\\s+")));
        if (!on) {
            return List.of();
        }
        if (format != WireFormat.OLLAMA || noBaseUrl) {
            problem(o.get("auto-start"), o.path("auto-start"), "auto-start: starts ollama serve: only for a provider with "
                    + "format: ollama and a base-url:");
            return List.of();
        }
        return command;
    }

    private static String gateway(String s) {
        String g = s.strip();
        if (!g.equals(RouteConfig.GATEWAY_CHAT) && !g.equals(RouteConfig.GATEWAY_MESSAGES)) {
            throw new IllegalArgumentException("'" + s + "' is not a gateway (chat: the /api/chat body; messages: Anthropic's /v1/messages)");
        }
        return g;
    }

    private static WireFormat wireFormat(String s) {
        try {
            return WireFormat.valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not a wire format (openai, anthropic, gemini or ollama)");
        }
    }

    /** A provider's base URL: http or https, an optional path (OpenAI's ends in /v1), no query, no user info. */
    static URI baseUrl(String s) {
        String expected = " (expected http(s)://host[:port][/path])";
        URI u;
        try {
            u = new URI(s.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + s + "' is not an http URL" + expected);
        }
        boolean scheme = "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
        if (!scheme || u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException("'" + s + "' is not a base URL" + expected);
        }
        if (u.getPort() == 0 || u.getPort() > 65535) {
            throw new IllegalArgumentException("'" + s + "': port " + u.getPort() + " is out of range (1..65535)");
        }
        String path = u.getRawPath() == null ? "" : u.getRawPath().replaceAll("/+$", "");
        if (path.contains("..") || path.contains("%") || path.contains("//")) {
            throw new IllegalArgumentException("'" + s + "': the path must be plain segments");
        }
        try {
            return new URI(u.getScheme().toLowerCase(Locale.ROOT), null, u.getHost(), u.getPort(), path, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + s + "' is not an http URL" + expected);
        }
    }

    /** {@code model-groups.<name>}: an ordered list of {@code {provider, model}}. */
    private Map<String, ModelGroupConfig> modelGroups(Obj top) {
        Map<String, ModelGroupConfig> groups = new LinkedHashMap<>();
        Node n = top.get("model-groups");
        if (n == null) {
            return groups;
        }
        if (!(n instanceof MapNode m)) {
            problem(n, "model-groups", "expected a mapping of group names to lists of {provider, model}, got " + describe(n));
            return groups;
        }
        for (Entry e : m.entries().values()) {
            String path = "model-groups." + e.key();
            if (!(e.value() instanceof ListNode l) || l.items().isEmpty()) {
                problem(e.value(), path, "expected a non-empty list of {provider, model}");
                continue;
            }
            if (providers.containsKey(e.key())) {
                problem(e.value(), path, "'" + e.key() + "' is also a provider name");
            }
            List<ModelGroupConfig.Member> members = new ArrayList<>();
            for (int i = 0; i < l.items().size(); i++) {
                Node item = l.items().get(i);
                Obj o = obj(item, path + "[" + i + "]", item.line(), item.column(), "provider", "model");
                if (o == null) {
                    continue;
                }
                String provider = value(o, "provider", null, "a provider name", ConfigLoader::nonEmpty);
                String model = value(o, "model", null, "a model name", ConfigLoader::nonEmpty);
                if (provider == null || model == null) {
                    missing(o, provider == null ? "provider" : "model");
                } else if (!providers.containsKey(provider)) {
                    problem(o.get("provider"), o.path("provider"), "no provider named '" + provider + "' (providers: "
                            + String.join(", ", providers.keySet()) + ")");
                } else {
                    members.add(new ModelGroupConfig.Member(provider, model));
                }
            }
            groups.put(e.key(), new ModelGroupConfig(e.key(), members));
        }
        return groups;
    }

    /** {@code server.dns}: name servers as IP literals with an optional port ({@code 10.0.0.2}, {@code 10.0.0.2:5353}, {@code [::1]:53}). */
    private DnsConfig dns(Obj server) {
        Obj o = child(server, "dns", "servers", "query-timeout");
        if (o == null) {
            return DnsConfig.DEFAULT;
        }
        List<java.net.InetSocketAddress> servers = new ArrayList<>();
        List<String> given = strings(o, "servers", List.of());
        for (int i = 0; i < given.size(); i++) {
            java.net.InetSocketAddress a = nameServer(given.get(i));
            if (a == null) {
                Node item = ((ListNode) o.get("servers")).items().get(i);
                problem(item, o.path("servers") + "[" + i + "]", "expected an IP address with an optional port"
                        + " (10.0.0.2, 10.0.0.2:5353, [::1]:53), got '" + given.get(i) + "'");
            } else {
                servers.add(a);
            }
        }
        return new DnsConfig(servers, value(o, "query-timeout", DnsConfig.DEFAULT.queryTimeout(), "a duration", duration(true)));
    }

    /** An IP literal, never a name (looking up the name server would need a name server). */
    private static java.net.InetSocketAddress nameServer(String s) {
        String host = s;
        int port = 53;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[([^\\]]+)](?::(\\d{1,5}))?|([^:\\[\\]]+)(?::(\\d{1,5}))?|([0-9A-Fa-f:]+)")
                .matcher(s.trim());
        if (!m.matches()) {
            return null;
        }
        if (m.group(1) != null) {
            host = m.group(1);
            port = m.group(2) == null ? 53 : Integer.parseInt(m.group(2));
        } else if (m.group(3) != null) {
            host = m.group(3);
            port = m.group(4) == null ? 53 : Integer.parseInt(m.group(4));
        } else {
            host = m.group(5); // a bare IPv6 address
        }
        java.net.InetAddress ip = io.netty.util.NetUtil.createInetAddressFromIpAddressString(host);
        return ip == null || port < 1 || port > 65535 ? null : new java.net.InetSocketAddress(ip, port);
    }

    private CompatConfig compat(Obj top, List<ListenerConfig> listeners) {
        if (top.get("compat") == null) {
            return CompatConfig.NONE;
        }
        Obj o = child(top, "compat", "host", "port", "pool", "check-interval", "listener");
        CompatConfig d = CompatConfig.NONE;
        String host = value(o, "host", d.host(), "an IP address", ConfigLoader::listenHost);
        int port = value(o, "port", d.port(), "a number", integer(1, 65535));
        String pool = value(o, "pool", null, "a pool name", ConfigLoader::nonEmpty);
        if (!o.has("pool")) {
            missing(o, "pool");
        } else if (pool != null && poolNames != null && !poolNames.contains(pool)) {
            problem(o.get("pool"), o.path("pool"), "no pool named '" + pool + "' (pools: " + String.join(", ", poolNames) + ")");
        }
        for (ListenerConfig l : listeners) {
            if (l.port() == port && clash(host, l.host())) {
                problem(o.has("port") ? o.get("port") : o.get("pool"), o.path("port"),
                        "port " + port + " is already used by listener '" + l.name() + "'");
                break;
            }
        }
        String named = value(o, "listener", null, "a listener name", ConfigLoader::nonEmpty);
        String listener = named;
        if (named != null && listeners.stream().noneMatch(l -> l.name().equals(named))) {
            problem(o.get("listener"), o.path("listener"), "no listener named '" + named + "' (listeners: "
                    + String.join(", ", listeners.stream().map(ListenerConfig::name).toList()) + ")");
        } else if (listener == null && pool != null) {
            // The listener that already serves this pool: its policy is the one old clients were meant to meet.
            listener = listeners.stream().filter(l -> l.routes().stream().anyMatch(r -> pool.equals(r.pool())))
                    .map(ListenerConfig::name).findFirst().orElse(null);
        }
        return new CompatConfig(host, port, pool, value(o, "check-interval", d.checkInterval(), "a duration", duration(true)),
                listener);
    }

    private InferenceConfig inference(Obj admin) {
        if (admin.get("inference") == null) {
            return InferenceConfig.NONE; // not configured: inference/up answers 409
        }
        Obj o = child(admin, "inference", "pool", "command", "ready-timeout", "restart", "restart-backoff", "output-lines",
                "max-processes");
        if (o == null) {
            return InferenceConfig.NONE;
        }
        InferenceConfig d = InferenceConfig.NONE;
        String pool = value(o, "pool", null, "a pool name", ConfigLoader::nonEmpty);
        if (!o.has("pool")) {
            missing(o, "pool");
        } else if (pool != null && poolNames != null && !poolNames.contains(pool)) {
            problem(o.get("pool"), o.path("pool"), "no pool named '" + pool + "' (pools: " + String.join(", ", poolNames) + ")");
        }
        List<String> command = value(o, "command", d.command(), "a command line", s -> {
            List<String> argv = List.of(s.trim().split("\\s+"));
            if (s.isBlank() || argv.stream().noneMatch(t -> t.contains("{port}"))) {
                throw new IllegalArgumentException("the command must contain {port} (the replica's port)");
            }
            return argv;
        });
        return new InferenceConfig(pool, command,
                value(o, "ready-timeout", d.readyTimeout(), "a duration", duration(true)),
                value(o, "restart", d.restart(), "true or false", ConfigLoader::bool),
                value(o, "restart-backoff", d.restartBackoff(), "a duration", duration(true)),
                value(o, "output-lines", d.outputLines(), "a number", integer(1, 10_000)),
                value(o, "max-processes", d.maxProcesses(), "a number", integer(1, 256)));
    }

    private Map<String, PoolConfig> pools(Obj top) {
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        Node n = top.get("pools");
        if (n == null) {
            return pools;
        }
        if (!(n instanceof MapNode m)) {
            problem(n, "pools", "expected a mapping of pool names to pools, got " + describe(n));
            poolNames = null;
            return pools;
        }
        for (Entry e : m.entries().values()) {
            poolNames.add(e.key());
            Obj o = obj(e.value(), "pools." + e.key(), e.line(), e.column(), "balancer", "connect-timeout",
                    "response-timeout", "max-idle-per-backend", "health", "backends", "stream-idle-timeout",
                    "request-timeout", "retries", "outlier", "max-in-flight-per-backend", "queue", "models", "headers",
                    "tls", "host-header", "routing", "websocket");
            if (o != null) {
                pools.put(e.key(), pool(e.key(), o));
            }
        }
        return pools;
    }

    private PoolConfig pool(String name, Obj o) {
        String balancer = value(o, "balancer", "least-connections", "a string", oneOf("balancer", BALANCERS));
        Duration connect = value(o, "connect-timeout", Duration.ofSeconds(2), "a duration", duration(true));
        Duration response = value(o, "response-timeout", Duration.ofSeconds(300), "a duration", duration(true));
        int maxIdle = value(o, "max-idle-per-backend", 64, "a number", integer(0, 65536));
        Obj h = child(o, "health", "enabled", "path", "interval", "timeout", "rise", "fall");
        HealthConfig health = h == null ? HealthConfig.DEFAULT : health(h);
        List<String> models = poolModels(name, o); // before the backends: simulators serve one of them
        List<BackendConfig> backends = new ArrayList<>();
        ListNode list = items(o, "backends", "pool '" + name + "' has no backends");
        if (list != null) {
            Map<String, Integer> addresses = new HashMap<>();
            Map<String, Integer> names = new HashMap<>();
            for (int i = 0; i < list.items().size(); i++) {
                BackendConfig b = backend(list.items().get(i), o.path("backends") + "[" + i + "]", i, addresses, names, models);
                if (b != null) {
                    backends.add(b);
                }
            }
        }
        Duration streamIdle = value(o, "stream-idle-timeout", Duration.ofSeconds(120), "a duration", duration(true));
        Duration whole = value(o, "request-timeout", Duration.ofMinutes(30), "a duration", duration(false));
        Obj r = child(o, "retries", "attempts", "budget-percent", "non-idempotent", "replay-body-limit");
        RetryConfig rd = RetryConfig.DEFAULT;
        RetryConfig retry = r == null ? rd : new RetryConfig(
                value(r, "attempts", rd.attempts(), "a number", integer(0, 10)),
                value(r, "budget-percent", rd.budgetPercent(), "a number", integer(0, 100)),
                value(r, "non-idempotent", rd.nonIdempotent(), "true or false", ConfigLoader::bool),
                value(r, "replay-body-limit", rd.replayBodyLimit(), "a size", size()));
        Obj ol = child(o, "outlier", "enabled", "consecutive-failures", "ejection", "max-ejection");
        OutlierConfig od = OutlierConfig.DEFAULT;
        OutlierConfig outlier = ol == null ? od : new OutlierConfig(
                value(ol, "enabled", od.enabled(), "true or false", ConfigLoader::bool),
                value(ol, "consecutive-failures", od.consecutiveFailures(), "a number", integer(1, 1000)),
                value(ol, "ejection", od.ejection(), "a duration", duration(true)),
                value(ol, "max-ejection", od.maxEjection(), "a duration", duration(true)));
        int maxInFlight = value(o, "max-in-flight-per-backend", 0, "a number", integer(0, 1_000_000));
        Obj q = child(o, "queue", "size", "timeout", "classes", "class-header", "key-classes", "default-class",
                "key-share-percent", "spill-to", "spill-after");
        int queueSize = q == null ? 0 : value(q, "size", 0, "a number", integer(0, 1_000_000));
        Duration queueTimeout = q == null ? Duration.ofSeconds(30) : value(q, "timeout", Duration.ofSeconds(30), "a duration", duration(true));
        QueueConfig admission = q == null ? QueueConfig.NONE : admission(name, q);
        UpstreamTlsConfig tls = o.entries.containsKey("tls") ? upstreamTls(o) : UpstreamTlsConfig.DEFAULT;
        String hostHeader = value(o, "host-header", PoolConfig.HOST_PASS, "pass, backend or a host name",
                ConfigLoader::hostHeader);
        return new PoolConfig(name, balancer, connect, response, maxIdle, health, backends,
                streamIdle, whole, retry, outlier, maxInFlight, queueSize, queueTimeout, models, headerRules(o),
                tls, hostHeader, routing(o), admission, websocket(o));
    }

    /** {@code pools.<name>.websocket}: idle timeout, largest client message, tunnels at once ({@link WebSocketConfig}). */
    private WebSocketConfig websocket(Obj pool) {
        Obj o = child(pool, "websocket", "idle-timeout", "max-message", "max-connections");
        WebSocketConfig d = WebSocketConfig.DEFAULT;
        if (o == null) {
            return d;
        }
        return new WebSocketConfig(
                value(o, "idle-timeout", d.idleTimeout(), "a duration", duration(false)),
                value(o, "max-message", d.maxMessage(), "a size", size()),
                value(o, "max-connections", d.maxConnections(), "a number", integer(0, 10_000_000)));
    }

    /** {@code pools.<name>.routing}: the LLM-aware policies' settings ({@link RoutingConfig}). */
    private RoutingConfig routing(Obj pool) {
        Obj o = child(pool, "routing", "load-factor", "prefix-blocks", "block-chars", "session-header", "stale-after",
                "waiting-weight", "running-weight", "kv-weight");
        RoutingConfig d = RoutingConfig.DEFAULT;
        if (o == null) {
            return d;
        }
        Function<String, Double> weight = decimal(0, 1_000_000);
        return new RoutingConfig(
                value(o, "load-factor", d.loadFactor(), "a number", decimal(1, 100)),
                value(o, "prefix-blocks", d.prefixBlocks(), "a number", integer(1, 1024)),
                value(o, "block-chars", d.blockChars(), "a number", integer(1, 1 << 20)),
                value(o, "session-header", d.sessionHeader(), "a header name", ConfigLoader::nonEmpty),
                value(o, "stale-after", d.staleAfter(), "a duration", duration(true)),
                value(o, "waiting-weight", d.waitingWeight(), "a number", weight),
                value(o, "running-weight", d.runningWeight(), "a number", decimal(0.000001, 1_000_000)),
                value(o, "kv-weight", d.kvWeight(), "a number", weight));
    }

    private static Function<String, Double> decimal(double min, double max) {
        return s -> {
            double v;
            try {
                v = Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a number, got '" + s + "'");
            }
            if (!(v >= min && v <= max)) {
                throw new IllegalArgumentException(s.strip() + " is out of range (" + min + ".." + max + ")");
            }
            return v;
        };
    }

    /** {@code services:}, parsed before the listeners' routes. */
    private ServicesConfig services = ServicesConfig.NONE;

    /** Spill targets, checked once every pool (of the file and of the providers) is known. */
    private final List<Runnable> spillChecks = new ArrayList<>();

    /**
     * {@code pools.<name>.queue}'s admission keys: priority {@code classes} (highest first) chosen by
     * {@code key-classes} (API key id to class), else {@code class-header}, else {@code default-class}
     * (the first class when not given); {@code key-share-percent} of {@code size} per client (default 50);
     * {@code spill-to} a pool when the predicted wait exceeds {@code spill-after} (default 0s: whenever
     * the request would queue and a wait estimate exists).
     */
    private QueueConfig admission(String pool, Obj q) {
        List<String> classes = strings(q, "classes", List.of());
        Set<String> seen = new HashSet<>();
        for (String c : classes) {
            if (!seen.add(c)) {
                problem(q.get("classes"), q.path("classes"), "class '" + c + "' is listed twice");
            }
        }
        String dflt = value(q, "default-class", classes.isEmpty() ? null : classes.get(0), "a string", s -> s);
        String header = value(q, "class-header", null, "a header name", s -> s.toLowerCase(Locale.ROOT));
        Map<String, String> keyClasses = new LinkedHashMap<>();
        Node kn = q.get("key-classes");
        if (kn != null && !(kn instanceof MapNode)) {
            problem(kn, q.path("key-classes"), "expected a mapping of API key names to classes, got " + describe(kn));
        } else if (kn != null) {
            for (Entry e : ((MapNode) kn).entries().values()) {
                String c = e.value() instanceof Scalar sc ? sc.text() : null;
                if (c == null || !classes.contains(c)) {
                    problem(e.line(), e.column(), q.path("key-classes") + "." + e.key(), "expected one of the queue's classes ("
                            + String.join(", ", classes) + "), got " + (c == null ? describe(e.value()) : "'" + c + "'"));
                } else {
                    keyClasses.put(e.key(), c);
                }
            }
        }
        if (classes.isEmpty() && (q.has("default-class") || q.has("class-header") || !keyClasses.isEmpty()
                || q.has("key-share-percent"))) {
            problem(q, "default-class, class-header, key-classes and key-share-percent need classes: [...]");
        } else if (dflt != null && !classes.contains(dflt)) {
            problem(q.get("default-class"), q.path("default-class"), "expected one of the queue's classes ("
                    + String.join(", ", classes) + "), got '" + dflt + "'");
            dflt = classes.get(0);
        }
        int share = value(q, "key-share-percent", 50, "a number", integer(1, 100));
        String spill = value(q, "spill-to", null, "a pool name", s -> s);
        Duration after = value(q, "spill-after", Duration.ZERO, "a duration", duration(false));
        if (spill != null) {
            Node at = q.get("spill-to");
            String path = q.path("spill-to");
            spillChecks.add(() -> {
                if (spill.equals(pool)) {
                    problem(at, path, "a pool cannot spill to itself");
                } else if (poolNames != null && !poolNames.contains(spill)) {
                    problem(at, path, "no pool named '" + spill + "' (pools: " + String.join(", ", poolNames) + ")");
                } else {
                    // A spilled request goes as it came (OpenAI's wire format): only an OpenAI-format provider reads it.
                    providers.values().stream()
                            .filter(pc -> pc.baseUrl() != null && pc.pool().equals(spill) && pc.format() != WireFormat.OPENAI)
                            .findFirst()
                            .ifPresent(pc -> problem(at, path, "provider '" + pc.name() + "' speaks " + pc.format()
                                    + ", not OpenAI's format: a spilled request reaches it untranslated (spill to an "
                                    + "OpenAI-format provider, or use model-groups: on a gateway route)"));
                }
            });
        } else if (q.has("spill-after")) {
            problem(q.get("spill-after"), q.path("spill-after"), "spill-after needs spill-to");
        }
        if (classes.isEmpty() && spill == null) {
            return QueueConfig.NONE; // the plain FIFO line: records compare equal to a pool without these keys
        }
        return new QueueConfig(classes, header, keyClasses, dflt, share, spill, after);
    }

    /** {@code pools.<name>.tls}: the files are read here, so a missing or broken one is reported where it is named. */
    private UpstreamTlsConfig upstreamTls(Obj pool) {
        Obj o = child(pool, "tls", "ca-file", "verify", "server-name", "client-cert", "client-key", "protocols");
        if (o == null) {
            return UpstreamTlsConfig.DEFAULT;
        }
        UpstreamTlsConfig d = UpstreamTlsConfig.DEFAULT;
        String ca = value(o, "ca-file", null, "a PEM file", ConfigLoader::pemCertificates);
        boolean verify = value(o, "verify", true, "true or false", ConfigLoader::bool);
        String serverName = value(o, "server-name", null, "a host name", ConfigLoader::serverName);
        String cert = value(o, "client-cert", null, "a PEM file", ConfigLoader::pemCertificates);
        String key = value(o, "client-key", null, "a PEM file", ConfigLoader::pemKey);
        if (o.has("client-cert") != o.has("client-key")) {
            String given = o.has("client-cert") ? "client-cert" : "client-key";
            String other = o.has("client-cert") ? "client-key" : "client-cert";
            problem(o.get(given), o.path(given), given + " needs " + other + " too");
            cert = null;
            key = null;
        } else if (cert == null || key == null) {
            cert = null; // one of them was reported
            key = null;
        }
        List<String> protocols = strings(o, "protocols", d.protocols());
        for (int i = 0; i < protocols.size(); i++) {
            if (!UpstreamTlsConfig.PROTOCOLS.contains(protocols.get(i))) {
                Node item = ((ListNode) o.get("protocols")).items().get(i);
                problem(item, o.path("protocols") + "[" + i + "]", "protocol '" + protocols.get(i) + "' is not supported ("
                        + String.join(", ", UpstreamTlsConfig.PROTOCOLS) + ")");
                protocols = d.protocols();
                break;
            }
        }
        if (protocols.isEmpty()) {
            problem(o.get("protocols"), o.path("protocols"), "at least one protocol is needed");
            protocols = d.protocols();
        }
        return new UpstreamTlsConfig(ca, verify, serverName, cert, key, protocols);
    }

    private HealthConfig health(Obj o) {
        HealthConfig d = HealthConfig.DEFAULT;
        boolean enabled = value(o, "enabled", d.enabled(), "true or false", ConfigLoader::bool);
        String path = value(o, "path", d.path(), "a path", ConfigLoader::absolutePath);
        int reported = problems.size();
        Duration interval = value(o, "interval", d.interval(), "a duration", duration(true));
        Duration timeout = value(o, "timeout", d.timeout(), "a duration", duration(true));
        if (problems.size() == reported && timeout.compareTo(interval) >= 0) {
            String at = o.has("timeout") ? "timeout" : "interval";
            problem(o.get(at), o.path(at), "timeout " + Durations.format(timeout)
                    + " must be shorter than interval " + Durations.format(interval));
        }
        return new HealthConfig(enabled, path, interval, timeout,
                value(o, "rise", d.rise(), "a number", integer(1, 1000)),
                value(o, "fall", d.fall(), "a number", integer(1, 1000)));
    }

    private BackendConfig backend(Node n, String path, int index, Map<String, Integer> addresses, Map<String, Integer> names,
                                  List<String> poolModels) {
        Obj o = obj(n, path, n.line(), n.column(), "url", "simulator", "dns", "dns-refresh", "weight", "name");
        if (o == null) {
            return null;
        }
        int weight = value(o, "weight", 1, "a number", integer(1, 1000));
        if (o.entries.containsKey("dns") || o.entries.containsKey("dns-refresh")) {
            return discovered(o, n, weight, addresses, names);
        }
        boolean hasUrl = o.has("url");
        if (hasUrl == o.entries.containsKey("simulator")) { // "simulator:" alone means all defaults
            problem(o, hasUrl ? "a backend needs either url: or simulator:, not both"
                    : "a backend needs either url: http://host:port or simulator:");
            return null;
        }
        String host;
        int port;
        SimulatorConfig sim = null;
        boolean tls = false;
        Obj addressed = o; // where the port was written, for duplicates
        if (hasUrl) {
            URI url = value(o, "url", null, "a URL", ConfigLoader::httpUrl);
            if (url == null) {
                return null;
            }
            host = url.getHost().replaceAll("^\\[|\\]$", "").toLowerCase(Locale.ROOT);
            tls = "https".equalsIgnoreCase(url.getScheme());
            port = url.getPort() < 0 ? (tls ? 443 : 80) : url.getPort();
        } else {
            Obj s = child(o, "simulator", "model", "port", "ttft", "itl", "max-tokens", "max-num-seqs", "kv-blocks",
                    "prefill-per-token", "batch-slowdown", "prefix-caching");
            if (s == null) {
                return null;
            }
            SimulatorConfig d = SimulatorConfig.DEFAULT;
            // In a pool that declares models, a simulator serves the first unless told which (of them).
            String model = value(s, "model", poolModels.isEmpty() ? d.model() : poolModels.get(0), "a string",
                    ConfigLoader::nonEmpty);
            if (s.has("model") && !poolModels.isEmpty() && !poolModels.contains(model)) {
                problem(s.get("model"), s.path("model"), "the simulator serves '" + model + "', which is not among the pool's models ("
                        + String.join(", ", poolModels) + ")");
            }
            sim = new SimulatorConfig(
                    model,
                    value(s, "port", d.port(), "a number", integer(0, 65535)),
                    value(s, "ttft", d.ttft(), "a duration", duration(false)),
                    value(s, "itl", d.itl(), "a duration", duration(false)),
                    value(s, "max-tokens", d.maxTokens(), "a number", integer(1, Integer.MAX_VALUE)),
                    value(s, "max-num-seqs", d.maxNumSeqs(), "a number", integer(1, Integer.MAX_VALUE)),
                    value(s, "kv-blocks", d.kvBlocks(), "a number", integer(1, Integer.MAX_VALUE)),
                    value(s, "prefill-per-token", d.prefillPerToken(), "a duration", duration(false)),
                    value(s, "batch-slowdown", d.batchSlowdown(), "a number",
                            fraction(0, SimulatorConfig.MAX_BATCH_SLOWDOWN)),
                    value(s, "prefix-caching", d.prefixCaching(), "true or false", ConfigLoader::bool));
            host = "127.0.0.1";
            port = sim.port();
            addressed = s;
        }
        // Simulators on ephemeral ports would all default to 127.0.0.1:0, hence their index-based name.
        String address = BackendConfig.address(host, port);
        String name = value(o, "name", hasUrl ? address : "sim-" + index, "a string", ConfigLoader::nonEmpty);
        Integer first = port == 0 ? null : addresses.putIfAbsent(address, n.line());
        if (first != null) {
            String at = hasUrl ? "url" : "port";
            problem(addressed.get(at), addressed.path(at), "duplicate backend " + address + " (also at line " + first + ")");
        } else if ((first = names.putIfAbsent(name, n.line())) != null) {
            problem(o.has("name") ? o.get("name") : n, o.path("name"), "duplicate backend name '" + name + "' (also at line " + first + ")");
        }
        return new BackendConfig(name, host, port, weight, sim, tls);
    }

    /**
     * A {@code dns:} entry ({@code host:port} or {@code http[s]://host[:port]}): the name is looked up at
     * run time, one backend per address, so it must be a name, not an IP literal.
     */
    private BackendConfig discovered(Obj o, Node n, int weight, Map<String, Integer> addresses, Map<String, Integer> names) {
        if (o.entries.containsKey("url") || o.entries.containsKey("simulator")) {
            problem(o, "a backend needs one of url:, dns: or simulator:, not several");
            return null;
        }
        if (!o.has("dns")) {
            problem(o, "a dns: backend needs dns: host:port (or http(s)://host[:port])");
            return null;
        }
        URI target = value(o, "dns", null, "host:port or http(s)://host:port", ConfigLoader::dnsTarget);
        Obj r = child(o, "dns-refresh", "min", "max");
        DnsDiscoveryConfig d = DnsDiscoveryConfig.DEFAULT;
        DnsDiscoveryConfig refresh = r == null ? d : new DnsDiscoveryConfig(
                value(r, "min", d.minRefresh(), "a duration", duration(true)),
                value(r, "max", d.maxRefresh(), "a duration", duration(true)));
        if (r != null && refresh.minRefresh().compareTo(refresh.maxRefresh()) > 0) {
            String at = r.has("max") ? "max" : "min";
            problem(r.has(at) ? r.get(at) : n, r.path(at), "min " + Durations.format(refresh.minRefresh())
                    + " must not be longer than max " + Durations.format(refresh.maxRefresh()));
        }
        if (target == null) {
            return null;
        }
        String host = target.getHost().toLowerCase(Locale.ROOT);
        boolean tls = "https".equalsIgnoreCase(target.getScheme());
        int port = target.getPort() < 0 ? (tls ? 443 : 80) : target.getPort();
        String address = BackendConfig.address(host, port);
        String name = value(o, "name", address, "a string", ConfigLoader::nonEmpty);
        Integer first = addresses.putIfAbsent("dns:" + address, n.line());
        if (first != null) {
            problem(o.get("dns"), o.path("dns"), "duplicate dns: entry " + address + " (also at line " + first + ")");
        } else if ((first = names.putIfAbsent(name, n.line())) != null) {
            problem(o.has("name") ? o.get("name") : n, o.path("name"), "duplicate backend name '" + name + "' (also at line " + first + ")");
        }
        return new BackendConfig(name, host, port, weight, null, tls, refresh);
    }

    /** {@code host:port}, or a URL as for {@code url:} whose host is a DNS name. */
    static URI dnsTarget(String s) {
        String expected = " (expected host:port or http(s)://host[:port], host a DNS name)";
        String v = s.strip();
        URI u;
        if (v.contains("://")) {
            u = httpUrl(v);
        } else {
            try {
                u = new URI("http://" + v);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("'" + s + "' is not a host:port" + expected);
            }
            if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawPath() != null && !u.getRawPath().isEmpty()
                    || u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new IllegalArgumentException("'" + s + "' is not a host:port" + expected);
            }
            if (u.getPort() < 0) {
                throw new IllegalArgumentException("'" + s + "' has no port" + expected);
            }
            if (u.getPort() == 0 || u.getPort() > 65535) {
                throw new IllegalArgumentException("'" + s + "': port " + u.getPort() + " is out of range (1..65535)");
            }
        }
        String host = u.getHost().replaceAll("^\\[|\\]$", "");
        if (io.netty.util.NetUtil.isValidIpV4Address(host) || io.netty.util.NetUtil.isValidIpV6Address(host)) {
            throw new IllegalArgumentException("'" + s + "' is an IP address, which has nothing to discover: use url: instead");
        }
        return u;
    }

    /** A listener and what it conflicts with. */
    private record Bound(String name, String host, int port, int line) {
    }

    private List<ListenerConfig> listeners(Obj top) {
        List<ListenerConfig> listeners = new ArrayList<>();
        ListNode list = items(top, "listeners", "no listeners (at least one is required)");
        if (list == null) {
            return listeners;
        }
        List<Bound> bound = new ArrayList<>();
        for (int i = 0; i < list.items().size(); i++) {
            Node n = list.items().get(i);
            Obj o = obj(n, "listeners[" + i + "]", n.line(), n.column(), "name", "host", "port",
                    "max-header-size", "max-initial-line", "idle-timeout", "routes", "tls", "http2", "redirect-to-https",
                    "header-timeout", "body-timeout", "max-request-body", "max-headers", "max-connections", "auth", "rate-limits", "cors",
                    "trusted-proxies");
            if (o == null) {
                continue;
            }
            String host = value(o, "host", "0.0.0.0", "an IP address", ConfigLoader::listenHost);
            Integer port = value(o, "port", null, "a number", integer(0, 65535));
            if (!o.has("port")) {
                missing(o, "port");
            }
            String name = value(o, "name", "http-" + (port == null ? "?" : port), "a string", ConfigLoader::nonEmpty);
            long maxHeader = value(o, "max-header-size", 16L * 1024, "a size", size());
            long maxInitial = value(o, "max-initial-line", 8L * 1024, "a size", size());
            Duration idle = value(o, "idle-timeout", Duration.ofSeconds(120), "a duration", duration(false));
            int redirect = value(o, "redirect-to-https", 0, "a port number", integer(1, 65535));
            TlsConfig tls = o.entries.containsKey("tls") ? tls(o) : null;
            if (tls != null && redirect != 0) {
                problem(o.get("redirect-to-https"), o.path("redirect-to-https"), "a TLS listener cannot redirect to HTTPS; put redirect-to-https on a plain listener");
            }
            Http2Config http2 = http2(o);
            // A redirecting listener answers everything itself: routes are optional there.
            List<RouteConfig> routes = redirect != 0 && !o.has("routes") ? List.of() : routes(o);
            for (Bound b : bound) {
                if (port != null && port != 0 && port == b.port() && clash(host, b.host())) {
                    problem(o.get("port"), o.path("port"), "port " + port + " is already used by listener '" + b.name() + "' (line " + b.line() + ")");
                    break;
                }
                if (name.equals(b.name())) {
                    problem(o.has("name") ? o.get("name") : n, o.path("name"), "duplicate listener name '" + name + "' (line " + b.line() + ")"
                            + (o.has("name") ? "" : "; give the listeners distinct name: values"));
                    break;
                }
            }
            bound.add(new Bound(name, host, port == null ? 0 : port, n.line()));
            Duration headerTimeout = value(o, "header-timeout", Duration.ofSeconds(10), "a duration", duration(false));
            Duration bodyTimeout = value(o, "body-timeout", Duration.ofSeconds(60), "a duration", duration(false));
            long maxBody = value(o, "max-request-body", 32L * 1024 * 1024, "a size", size());
            int maxHeaders = value(o, "max-headers", 100, "a number", integer(1, 10_000));
            int maxConns = value(o, "max-connections", 0, "a number", integer(0, 10_000_000));
            AccessConfig access = access(o);
            listeners.add(new ListenerConfig(name, host, port == null ? 0 : port, maxHeader, maxInitial, idle, routes,
                    tls, http2, redirect, headerTimeout, bodyTimeout, maxBody, maxHeaders, maxConns, access, trustedProxies(o)));
        }
        return listeners;
    }

    /** Each entry checked on its own line and column; a bad one is reported and left out. */
    private List<Cidr> trustedProxies(Obj o) {
        Node n = o.get("trusted-proxies");
        if (n == null) {
            return List.of();
        }
        if (!(n instanceof ListNode l)) {
            problem(n, o.path("trusted-proxies"), "expected a list of addresses or CIDR networks, got " + describe(n));
            return List.of();
        }
        List<Cidr> out = new ArrayList<>();
        for (int i = 0; i < l.items().size(); i++) {
            Node item = l.items().get(i);
            String at = o.path("trusted-proxies") + "[" + i + "]";
            if (!(item instanceof Scalar sc) || sc.text() == null) {
                problem(item, at, "expected an address or CIDR network, got " + describe(item));
                continue;
            }
            try {
                out.add(Cidr.parse(substitute(sc.text(), env)));
            } catch (IllegalArgumentException e) {
                problem(item, at, e.getMessage());
            }
        }
        return out;
    }

    private AccessConfig access(Obj o) {
        AccessConfig.Auth auth = o.has("auth") ? auth(child(o, "auth", "keys-file", "keys-env")) : null;
        AccessConfig.Limit perKey = null;
        AccessConfig.Limit perIp = null;
        AccessConfig.LimitStore store = null;
        if (o.has("rate-limits")) {
            Obj r = child(o, "rate-limits", "per-key", "per-ip", "store");
            if (r != null) {
                perKey = r.has("per-key") ? limit(child(r, "per-key", "requests-per-minute", "tokens-per-minute")) : null;
                perIp = r.has("per-ip") ? limit(child(r, "per-ip", "requests-per-minute", "tokens-per-minute")) : null;
                store = r.has("store") ? limitStore(child(r, "store", "redis", "on-failure", "timeout", "key-prefix")) : null;
            }
        }
        AccessConfig.Cors cors = null;
        if (o.has("cors")) {
            Obj c = child(o, "cors", "origins", "methods", "headers", "credentials", "max-age");
            if (c != null) {
                List<String> origins = strings(c, "origins", List.of());
                if (origins.isEmpty()) {
                    problem(c, "cors needs at least one entry in origins (\"*\" for any)");
                }
                boolean credentials = value(c, "credentials", false, "true or false", ConfigLoader::bool);
                if (credentials && origins.contains("*")) {
                    problem(c.get("credentials"), c.path("credentials"), "credentials cannot be allowed for any origin (\"*\"); list the origins");
                }
                cors = new AccessConfig.Cors(origins,
                        strings(c, "methods", List.of("GET", "POST", "OPTIONS")),
                        strings(c, "headers", List.of("authorization", "content-type", "x-request-id")),
                        credentials, value(c, "max-age", Duration.ofMinutes(10), "a duration", duration(false)));
            }
        }
        return auth == null && perKey == null && perIp == null && cors == null ? AccessConfig.NONE
                : new AccessConfig(auth, perKey, perIp, cors, store);
    }

    /** {@code rate-limits.store}: the shared Redis store of the buckets; its URL is never echoed (it may hold a password). */
    private AccessConfig.LimitStore limitStore(Obj s) {
        if (s == null) {
            return null;
        }
        String url = value(s, "redis", null, "a redis:// URL", ConfigLoader::redisUrl);
        if (!s.has("redis")) {
            missing(s, "redis");
        }
        String onFailure = value(s, "on-failure", "open", "open or closed", oneOf("on-failure", List.of("open", "closed")));
        Duration timeout = value(s, "timeout", Duration.ofMillis(50), "a duration", atMost(Duration.ofSeconds(10)));
        if (timeout.isZero()) {
            problem(s.get("timeout"), s.path("timeout"), "must be longer than 0");
        }
        String prefix = value(s, "key-prefix", "sluice:", "a string", ConfigLoader::nonEmpty);
        return url == null ? null : new AccessConfig.LimitStore(url, onFailure.equals("open"), timeout, prefix);
    }

    private static String redisUrl(String s) {
        URI u;
        try {
            u = new URI(s.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL (expected redis://host:port; the value is not shown)");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("redis") && !scheme.equals("rediss")) {
            throw new IllegalArgumentException("expected a redis:// or rediss:// URL, got scheme '" + scheme + "'");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException("the Redis URL has no host (expected redis://host:port)");
        }
        String path = u.getPath() == null ? "" : u.getPath();
        if (!path.isEmpty() && !path.equals("/") && !path.substring(1).chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("the Redis URL's path must be a database number (redis://host:port/0)");
        }
        return s.strip();
    }

    private AccessConfig.Auth auth(Obj a) {
        if (a == null) {
            return null;
        }
        String file = value(a, "keys-file", null, "a file path", ConfigLoader::nonEmpty);
        String envName = value(a, "keys-env", null, "an environment variable name", ConfigLoader::nonEmpty);
        if (file == null && envName == null) {
            problem(a, "auth needs keys-file, keys-env or both");
        }
        if (file != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
            problem(a.get("keys-file"), a.path("keys-file"), "cannot read keys file '" + file + "'");
        }
        if (envName != null && (env.apply(envName) == null || env.apply(envName).isBlank())) {
            problem(a.get("keys-env"), a.path("keys-env"), "environment variable " + envName + " is not set");
        }
        return new AccessConfig.Auth(file, envName);
    }

    private AccessConfig.Limit limit(Obj l) {
        if (l == null) {
            return null;
        }
        return new AccessConfig.Limit(
                value(l, "requests-per-minute", 0, "a number", integer(0, Integer.MAX_VALUE)),
                value(l, "tokens-per-minute", 0, "a number", integer(0, Integer.MAX_VALUE)));
    }

    private List<String> strings(Obj o, String key, List<String> dflt) {
        Node n = o.get(key);
        if (n == null) {
            return dflt;
        }
        if (!(n instanceof ListNode l)) {
            problem(n, o.path(key), "expected a list, got " + describe(n));
            return dflt;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.items().size(); i++) {
            Node item = l.items().get(i);
            if (item instanceof Scalar sc && sc.text() != null) {
                out.add(substitute(sc.text(), env));
            } else {
                problem(item, o.path(key) + "[" + i + "]", "expected a string, got " + describe(item));
            }
        }
        return out;
    }

    private TlsConfig tls(Obj listener) {
        Obj o = child(listener, "tls", "certificates", "self-signed", "acme", "reload-interval", "hsts");
        if (o == null) {
            return null;
        }
        List<CertificateConfig> certs = new ArrayList<>();
        Node n = o.get("certificates");
        if (n != null && !(n instanceof ListNode)) {
            problem(n, o.path("certificates"), "expected a list of { cert: FILE, key: FILE }, got " + describe(n));
        } else if (n != null) {
            List<Node> items = ((ListNode) n).items();
            for (int i = 0; i < items.size(); i++) {
                Node item = items.get(i);
                Obj c = obj(item, o.path("certificates") + "[" + i + "]", item.line(), item.column(), "cert", "key");
                if (c == null) {
                    continue;
                }
                String cert = value(c, "cert", null, "a file path", ConfigLoader::readableFile);
                String key = value(c, "key", null, "a file path", ConfigLoader::readableFile);
                if (!c.has("cert")) {
                    missing(c, "cert");
                }
                if (!c.has("key")) {
                    missing(c, "key");
                }
                if (cert != null && key != null) {
                    certs.add(new CertificateConfig(cert, key));
                }
            }
        }
        boolean selfSigned = value(o, "self-signed", false, "true or false", ConfigLoader::bool);
        AcmeConfig acme = o.entries.containsKey("acme") ? acme(o) : null;
        if (n == null && !selfSigned && acme == null) {
            problem(o, "tls needs certificates:, acme: or self-signed: true");
        }
        return new TlsConfig(certs, selfSigned, acme,
                value(o, "reload-interval", TlsConfig.DEFAULT_RELOAD, "a duration", duration(true)),
                value(o, "hsts", Duration.ZERO, "a duration", duration(false)));
    }

    private AcmeConfig acme(Obj tls) {
        Obj o = child(tls, "acme", "directory", "email", "domains", "storage", "renew-before", "check-interval", "trusted-ca", "challenge");
        if (o == null) {
            return null;
        }
        URI dir = value(o, "directory", URI.create(AcmeConfig.LETS_ENCRYPT), "a URL", ConfigLoader::acmeUrl);
        List<String> domains = new ArrayList<>();
        ListNode list = items(o, "domains", "acme needs at least one domain");
        if (list != null) {
            for (int i = 0; i < list.items().size(); i++) {
                Node d = list.items().get(i);
                if (!(d instanceof Scalar s) || s.text() == null) {
                    problem(d, o.path("domains") + "[" + i + "]", "expected a domain name, got " + describe(d));
                    continue;
                }
                try {
                    domains.add(domainName(substitute(s.text(), env)));
                } catch (IllegalArgumentException e) {
                    problem(d, o.path("domains") + "[" + i + "]", e.getMessage());
                }
            }
        }
        String storage = value(o, "storage", null, "a directory path", ConfigLoader::nonEmpty);
        if (!o.has("storage")) {
            missing(o, "storage");
        }
        return new AcmeConfig(dir.toString(), value(o, "email", null, "an email address", ConfigLoader::email), domains,
                storage == null ? "" : storage,
                value(o, "renew-before", Duration.ofDays(30), "a duration", duration(true)),
                value(o, "check-interval", Duration.ofHours(12), "a duration", duration(true)),
                value(o, "trusted-ca", null, "a file path", ConfigLoader::readableFile),
                value(o, "challenge", AcmeConfig.HTTP_01, "a string", oneOf("challenge", List.of(AcmeConfig.HTTP_01, AcmeConfig.TLS_ALPN_01))));
    }

    private Http2Config http2(Obj listener) {
        Obj o = child(listener, "http2", "enabled", "max-concurrent-streams", "initial-window-size", "max-header-list-size",
                "max-upstream-per-connection", "max-upstream-total", "websockets");
        if (o == null) {
            return Http2Config.DEFAULT;
        }
        Http2Config d = Http2Config.DEFAULT;
        long window = value(o, "initial-window-size", (long) d.initialWindowSize(), "a size", size());
        if (window < 16 * 1024) {
            problem(o.get("initial-window-size"), o.path("initial-window-size"), "must be at least 16KiB");
        }
        long headers = value(o, "max-header-list-size", d.maxHeaderListSize(), "a size", size());
        return new Http2Config(value(o, "enabled", d.enabled(), "true or false", ConfigLoader::bool),
                value(o, "max-concurrent-streams", d.maxConcurrentStreams(), "a number", integer(1, 10000)),
                (int) window, headers,
                value(o, "max-upstream-per-connection", d.maxUpstreamPerConnection(), "a number", integer(1, 10000)),
                value(o, "max-upstream-total", d.maxUpstreamTotal(), "a number", integer(1, 1_000_000)),
                value(o, "websockets", d.webSockets(), "true or false", ConfigLoader::bool));
    }

    private List<RouteConfig> routes(Obj listener) {
        List<RouteConfig> routes = new ArrayList<>();
        ListNode list = items(listener, "routes", "a listener needs at least one route");
        if (list == null) {
            return routes;
        }
        Map<String, Integer> paths = new HashMap<>();
        for (int i = 0; i < list.items().size(); i++) {
            Node n = list.items().get(i);
            Obj o = obj(n, listener.path("routes") + "[" + i + "]", n.line(), n.column(), "path", "pool", "admin",
                    "auth", "public", "by-model", "model", "prefix-rewrite", "headers", "methods", "provider", "gateway",
                    "static", "service");
            if (o == null) {
                continue;
            }
            String prefix = value(o, "path", null, "a path", ConfigLoader::absolutePath);
            List<String> methods = routeMethods(o);
            if (!o.has("path")) {
                missing(o, "path");
            }
            int reported = problems.size();
            String pool = value(o, "pool", null, "a pool name", ConfigLoader::nonEmpty);
            boolean admin = value(o, "admin", false, "true or false", ConfigLoader::bool);
            boolean byModel = value(o, "by-model", false, "true or false", ConfigLoader::bool);
            String gateway = value(o, "gateway", null, "chat or messages", ConfigLoader::gateway);
            String providerName = value(o, "provider", null, "a provider name", ConfigLoader::nonEmpty);
            ProviderConfig provider = providerName == null ? null : providers.get(providerName);
            String service = value(o, "service", null, "a service name", oneOf("service", ServicesConfig.NAMES));
            boolean isStatic = o.has("static");
            boolean valid = problems.size() == reported; // so a bad pool or admin value is not reported twice
            int kinds = (admin ? 1 : 0) + (o.has("pool") || byModel ? 1 : 0) + (gateway != null ? 1 : 0)
                    + (providerName != null ? 1 : 0) + (isStatic ? 1 : 0) + (service != null ? 1 : 0);
            if (valid && kinds > 1 && (isStatic || service != null)) {
                problem(o, "a route has one of pool:, by-model:, admin:, provider:, gateway:, static: or service:");
                valid = false;
            } else if (valid && service != null && !services.enabled(service)) {
                problem(o.get("service"), o.path("service"), "service '" + service + "' is not enabled (add services."
                        + service + ": to the file)");
                valid = false;
            }
            if (isStatic || service != null) {
                StaticConfig files = isStatic ? staticFiles(o) : null;
                for (String k : List.of("model", "prefix-rewrite", "by-model")) {
                    if (o.has(k)) {
                        problem(o.get(k), o.path(k), k + " applies to proxied routes, not to " + (isStatic ? "static:" : "service:"));
                    }
                }
                if (valid && prefix != null && problems.size() == reported) {
                    HeaderRules headers = headerRules(o);
                    AccessConfig.Auth auth = o.has("auth") ? auth(child(o, "auth", "keys-file", "keys-env")) : null;
                    boolean open = value(o, "public", false, "true or false", ConfigLoader::bool);
                    Integer first = paths.putIfAbsent(prefix, n.line());
                    if (first != null) {
                        problem(o.get("path"), o.path("path"), "duplicate route path '" + prefix + "' (line " + first + ")");
                    }
                    routes.add(new RouteConfig(prefix, null, false, auth, open, false, null, null, headers, methods,
                            null, null, files, service));
                }
                continue;
            }
            if (valid && kinds > 1 && (gateway != null || providerName != null)) {
                problem(o, "a route has one of pool:, by-model:, admin:, provider: or gateway:");
                valid = false;
            } else if (valid && providerName != null && provider == null) {
                problem(o.get("provider"), o.path("provider"), "no provider named '" + providerName + "' ("
                        + (providers.isEmpty() ? "no providers: are defined" : "providers: " + String.join(", ", providers.keySet())) + ")");
                valid = false;
            } else if (valid && gateway != null && providers.isEmpty()) {
                problem(o.get("gateway"), o.path("gateway"), "gateway: needs providers: to send requests to");
                valid = false;
            }
            if (valid && (gateway != null || provider != null)) {
                if (prefix != null) {
                    HeaderRules headers = headerRules(o);
                    AccessConfig.Auth auth = o.has("auth") ? auth(child(o, "auth", "keys-file", "keys-env")) : null;
                    boolean open = value(o, "public", false, "true or false", ConfigLoader::bool);
                    Integer first = paths.putIfAbsent(prefix, n.line());
                    if (first != null) {
                        problem(o.get("path"), o.path("path"), "duplicate route path '" + prefix + "' (line " + first + ")");
                    }
                    String rewrite = provider == null ? null
                            : value(o, "prefix-rewrite", provider.basePath() + "/", "a path", ConfigLoader::rewritePath);
                    routes.add(new RouteConfig(prefix, provider == null ? null : provider.pool(), false, auth, open, false, null,
                            rewrite, headers, methods, providerName, gateway));
                }
                continue;
            }
            if (valid && admin && o.has("pool")) {
                problem(o, "a route needs either pool: NAME or admin: true, not both");
                valid = false;
            } else if (valid && !admin && !o.has("pool") && !byModel) {
                problem(o, "a route needs either pool: NAME or admin: true (or by-model: true)");
                valid = false;
            } else if (valid && admin && byModel) {
                problem(o.get("by-model"), o.path("by-model"), "an admin route cannot choose a pool by model");
                valid = false;
            } else if (valid && byModel && modelPools.isEmpty()) {
                problem(o.get("by-model"), o.path("by-model"), "no pool declares models: (by-model chooses among the pools that do)");
            }
            if (valid && o.has("pool") && !admin && poolNames != null && !poolNames.contains(pool)) {
                problem(o.get("pool"), o.path("pool"), "no pool named '" + pool + "' ("
                        + (poolNames.isEmpty() ? "no pools are defined" : "pools: " + String.join(", ", poolNames)) + ")");
            }
            String prefixRewrite = value(o, "prefix-rewrite", null, "a path", ConfigLoader::rewritePath);
            HeaderRules headers = headerRules(o);
            String force = forcedModel(o, valid && !admin, byModel ? null : pool);
            if (admin) {
                for (String k : List.of("model", "prefix-rewrite", "headers")) {
                    if (o.has(k)) {
                        problem(o.get(k), o.path(k), k + " applies to proxied routes, not to admin: true");
                        valid = false;
                    }
                }
            }
            if (prefix != null) {
                Integer first = paths.putIfAbsent(prefix, n.line());
                if (first != null) {
                    problem(o.get("path"), o.path("path"), "duplicate route path '" + prefix + "' (line " + first + ")");
                }
                AccessConfig.Auth auth = o.has("auth") ? auth(child(o, "auth", "keys-file", "keys-env")) : null;
                boolean open = value(o, "public", false, "true or false", ConfigLoader::bool);
                if (valid) {
                    routes.add(new RouteConfig(prefix, admin ? null : pool, admin, auth, open, byModel, force,
                            prefixRewrite, headers, methods));
                }
            }
        }
        return routes;
    }

    /**
     * {@code routes[i].static}: a directory ({@code static: public}) or {@code {root, index, cache-control,
     * spa-fallback, precompressed}}. A missing directory is a warning (its route answers 404), a file a mistake.
     */
    private StaticConfig staticFiles(Obj route) {
        Node n = route.get("static");
        String at = route.path("static");
        String root;
        String index = "index.html";
        String cache = null;
        String spa = null;
        boolean precompressed = true;
        if (n instanceof Scalar sc) {
            root = sc.text();
        } else {
            Obj o = child(route, "static", "root", "index", "cache-control", "spa-fallback", "precompressed");
            if (o == null) {
                return null;
            }
            root = value(o, "root", null, "a directory", ConfigLoader::nonEmpty);
            if (!o.has("root")) {
                missing(o, "root");
                return null;
            }
            index = value(o, "index", index, "a file name", ConfigLoader::fileName);
            cache = value(o, "cache-control", null, "a Cache-Control value", ConfigLoader::nonEmpty);
            spa = value(o, "spa-fallback", null, "a file under root", ConfigLoader::nonEmpty);
            precompressed = value(o, "precompressed", true, "true or false", ConfigLoader::bool);
            at = o.path("root");
            n = o.get("root");
        }
        if (root == null || root.isBlank()) {
            problem(n, at, "expected a directory");
            return null;
        }
        Path dir = Path.of(root);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            problem(n, at, dir.toAbsolutePath().normalize() + " is not a directory");
            return null;
        }
        if (!Files.exists(dir)) { // as nginx and Caddy: the route answers 404 until the directory exists
            log.warn("{}: {}: no directory {} (yet); its route answers 404", source, at, dir.toAbsolutePath().normalize());
        }
        return new StaticConfig(dir, index, cache, spa, precompressed);
    }

    private static String fileName(String s) {
        if (s.isEmpty() || s.contains("/") || s.contains("\\") || s.equals(".") || s.equals("..")) {
            throw new IllegalArgumentException("'" + s + "' is not a plain file name");
        }
        return s;
    }

    /** {@code services:}: the built-in browser-app services, each off unless present. */
    private ServicesConfig services(Obj top) {
        Obj o = child(top, "services", ServicesConfig.VFS, ServicesConfig.CONSOLE, ServicesConfig.SIGNALING,
                ServicesConfig.AGENT_BRIDGE);
        if (o == null) {
            return ServicesConfig.NONE;
        }
        ServicesConfig.VfsConfig vfs = null;
        if (o.has(ServicesConfig.VFS)) {
            Obj v = child(o, ServicesConfig.VFS, "file", "max-size");
            vfs = v == null ? null : new ServicesConfig.VfsConfig(
                    Path.of(value(v, "file", "sluice-vfs.json", "a file path", ConfigLoader::nonEmpty)),
                    value(v, "max-size", 10L << 20, "a size", size()));
        }
        ServicesConfig.ConsoleConfig console = null;
        if (o.has(ServicesConfig.CONSOLE)) {
            Obj c = child(o, ServicesConfig.CONSOLE, "per-minute", "max-size");
            console = c == null ? null : new ServicesConfig.ConsoleConfig(
                    value(c, "per-minute", 120, "a number", integer(1, 1_000_000)),
                    value(c, "max-size", 64L << 10, "a size", size()));
        }
        ServicesConfig.SignalingConfig signaling = null;
        if (o.has(ServicesConfig.SIGNALING)) {
            Obj c = child(o, ServicesConfig.SIGNALING, "max-peers-per-room", "max-message");
            signaling = c == null ? null : new ServicesConfig.SignalingConfig(
                    value(c, "max-peers-per-room", 16, "a number", integer(2, 10_000)),
                    (int) (long) value(c, "max-message", 64L << 10, "a size", size()));
        }
        ServicesConfig.AgentBridgeConfig bridge = null;
        if (o.has(ServicesConfig.AGENT_BRIDGE)) {
            Obj c = child(o, ServicesConfig.AGENT_BRIDGE, "max-agents", "max-message");
            bridge = c == null ? null : new ServicesConfig.AgentBridgeConfig(
                    value(c, "max-agents", 256, "a number", integer(1, 100_000)),
                    (int) (long) value(c, "max-message", 1L << 20, "a size", size()));
        }
        return new ServicesConfig(vfs, console, signaling, bridge);
    }

    /** {@code routes[i].methods}: upper-case HTTP method tokens; empty (every method) when absent. */
    private List<String> routeMethods(Obj o) {
        if (!o.has("methods")) {
            return List.of();
        }
        List<String> given = strings(o, "methods", List.of());
        List<String> out = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            String m = given.get(i);
            if (!m.matches("[A-Z]{1,20}")) {
                Node item = o.get("methods") instanceof ListNode l && i < l.items().size() ? l.items().get(i) : o.get("methods");
                problem(item, o.path("methods") + "[" + i + "]", "'" + m + "' is not an HTTP method (upper case, e.g. POST)");
            } else if (!out.contains(m)) {
                out.add(m);
            }
        }
        if (o.get("methods") instanceof ListNode l && l.items().isEmpty()) {
            problem(o.get("methods"), o.path("methods"), "at least one method is needed (leave methods out for every method)");
        }
        return out;
    }

    // ---- models, aliases, header rules

    /** {@code pools.NAME.models}: each name once in the whole file (a model belongs to one pool). */
    private List<String> poolModels(String pool, Obj o) {
        Node n = o.get("models");
        if (n == null) {
            return List.of();
        }
        if (!(n instanceof ListNode l)) {
            problem(n, o.path("models"), "expected a list of model names, got " + describe(n));
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.items().size(); i++) {
            Node item = l.items().get(i);
            String at = o.path("models") + "[" + i + "]";
            if (!(item instanceof Scalar sc) || sc.text() == null) {
                problem(item, at, "expected a model name, got " + describe(item));
                continue;
            }
            String model;
            try {
                model = modelName(substitute(sc.text(), env));
            } catch (IllegalArgumentException e) {
                problem(item, at, e.getMessage());
                continue;
            }
            String owner = modelPools.putIfAbsent(model, pool);
            if (owner == null) {
                out.add(model);
            } else if (owner.equals(pool)) {
                problem(item, at, "model '" + model + "' is listed twice");
            } else {
                problem(item, at, "model '" + model + "' is already served by pool '" + owner
                        + "' (a model belongs to one pool; give the other one a distinct name)");
            }
        }
        return out;
    }

    /** The top-level {@code models:} section; needs every pool's models bound. */
    private ModelsConfig models(Obj top) {
        if (top.get("models") == null) {
            return ModelsConfig.NONE;
        }
        Obj o = child(top, "models", "aliases");
        Node n = o == null ? null : o.get("aliases");
        if (n == null) {
            return ModelsConfig.NONE;
        }
        String base = o.path("aliases");
        if (!(n instanceof MapNode m)) {
            problem(n, base, "expected a mapping of alias to model name, got " + describe(n));
            return ModelsConfig.NONE;
        }
        Map<String, String> aliases = new LinkedHashMap<>();
        Map<String, Entry> where = new HashMap<>();
        for (Entry e : m.entries().values()) {
            String at = base + "." + e.key();
            where.put(e.key(), e);
            if (!(e.value() instanceof Scalar sc) || sc.text() == null) {
                problem(e.value(), at, "expected a model name, got " + describe(e.value()));
                brokenAliases.add(e.key());
                continue;
            }
            String target;
            try {
                modelName(e.key());
                target = modelName(substitute(sc.text(), env));
            } catch (IllegalArgumentException x) {
                problem(e.value(), at, x.getMessage());
                brokenAliases.add(e.key());
                continue;
            }
            if (modelPools.containsKey(e.key())) {
                problem(e.line(), e.column(), at, "alias '" + e.key() + "' shadows the model of that name served by pool '"
                        + modelPools.get(e.key()) + "'");
                brokenAliases.add(e.key());
                continue;
            }
            aliases.put(e.key(), target);
        }
        for (String alias : aliases.keySet()) {
            if (resolvedAliases.containsKey(alias) || brokenAliases.contains(alias)) {
                continue;
            }
            List<String> chain = new ArrayList<>(List.of(alias));
            String cur = aliases.get(alias);
            String real = null;
            while (true) {
                if (modelPools.containsKey(cur)) {
                    real = cur;
                    break;
                }
                if (resolvedAliases.containsKey(cur)) {
                    real = resolvedAliases.get(cur);
                    break;
                }
                if (brokenAliases.contains(cur)) {
                    break; // reported where it is
                }
                String last = chain.get(chain.size() - 1);
                if (!aliases.containsKey(cur)) {
                    Entry e = where.get(last);
                    problem(e.value(), base + "." + last, "alias '" + last + "' leads to '" + cur
                            + "', which no pool serves (" + servedModels() + ")");
                    break;
                }
                int loop = chain.indexOf(cur);
                if (loop >= 0) {
                    Entry e = where.get(cur);
                    List<String> cycle = new ArrayList<>(chain.subList(loop, chain.size()));
                    cycle.add(cur);
                    problem(e.line(), e.column(), base + "." + cur, "alias cycle: " + String.join(" -> ", cycle));
                    break;
                }
                chain.add(cur);
                cur = aliases.get(cur);
            }
            for (String a : chain) {
                if (real != null) {
                    resolvedAliases.put(a, real);
                } else {
                    brokenAliases.add(a);
                }
            }
        }
        return new ModelsConfig(aliases);
    }

    /**
     * A route's {@code model:}, resolved to the real model. {@code pool} is the route's pool when it does not
     * choose by model: the forced model must be one that pool serves.
     */
    private String forcedModel(Obj o, boolean check, String pool) {
        String model = value(o, "model", null, "a model name", ConfigLoader::modelName);
        if (model == null || !check) {
            return model;
        }
        String real = modelPools.containsKey(model) ? model : resolvedAliases.get(model);
        if (real == null) {
            if (!brokenAliases.contains(model)) {
                problem(o.get("model"), o.path("model"), "model '" + model + "' is not served by any pool (" + servedModels() + ")");
            }
            return null;
        }
        String owner = modelPools.get(real);
        if (pool != null && poolNames != null && poolNames.contains(pool) && !pool.equals(owner)) {
            problem(o.get("model"), o.path("model"), "pool '" + pool + "' does not serve model '" + real + "'"
                    + (real.equals(model) ? "" : " (alias '" + model + "')") + ", pool '" + owner
                    + "' does; add it to pools." + pool + ".models or route to '" + owner + "'");
        }
        return real;
    }

    /** For messages: the served models, bounded. */
    private String servedModels() {
        if (modelPools.isEmpty()) {
            return "no pool declares models:";
        }
        String all = String.join(", ", modelPools.keySet());
        return "served: " + (all.length() > 200 ? all.substring(0, 200) + "..." : all);
    }

    /** Names that would break message framing or connection semantics if a rule could touch them. */
    static final Set<String> PROTECTED_HEADERS = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
            "upgrade", "te", "trailer", "proxy-connection");

    /** {@code headers:} of a route or pool: {@code request:} and {@code response:}, each with set, add and remove. */
    private HeaderRules headerRules(Obj parent) {
        if (!parent.has("headers")) {
            return HeaderRules.NONE;
        }
        Obj h = child(parent, "headers", "request", "response");
        if (h == null) {
            return HeaderRules.NONE;
        }
        HeaderRules rules = new HeaderRules(headerRules(h, "request"), headerRules(h, "response"));
        return rules.isEmpty() ? HeaderRules.NONE : rules;
    }

    private List<HeaderRule> headerRules(Obj h, String direction) {
        if (!h.has(direction)) {
            return List.of();
        }
        Obj d = child(h, direction, "set", "add", "remove");
        if (d == null) {
            return List.of();
        }
        List<HeaderRule> out = new ArrayList<>();
        Node r = d.get("remove");
        if (r != null && !(r instanceof ListNode)) {
            problem(r, d.path("remove"), "expected a list of header names, got " + describe(r));
        } else if (r != null) {
            List<Node> items = ((ListNode) r).items();
            for (int i = 0; i < items.size(); i++) {
                Node item = items.get(i);
                String at = d.path("remove") + "[" + i + "]";
                if (!(item instanceof Scalar sc) || sc.text() == null) {
                    problem(item, at, "expected a header name, got " + describe(item));
                    continue;
                }
                try {
                    out.add(new HeaderRule(HeaderRule.Op.REMOVE, headerName(substitute(sc.text(), env)), null));
                } catch (IllegalArgumentException e) {
                    problem(item, at, e.getMessage());
                }
            }
        }
        for (HeaderRule.Op op : List.of(HeaderRule.Op.SET, HeaderRule.Op.ADD)) {
            String key = op.name().toLowerCase(Locale.ROOT);
            Node m = d.get(key);
            if (m == null) {
                continue;
            }
            if (!(m instanceof MapNode map)) {
                problem(m, d.path(key), "expected a mapping of header name to value, got " + describe(m));
                continue;
            }
            for (Entry e : map.entries().values()) {
                String at = d.path(key) + "." + e.key();
                String name;
                try {
                    name = headerName(e.key());
                } catch (IllegalArgumentException x) {
                    problem(e.line(), e.column(), at, x.getMessage());
                    continue;
                }
                if (!(e.value() instanceof Scalar sc) || sc.text() == null) {
                    problem(e.value(), at, "expected a header value (\"\" for an empty one), got " + describe(e.value()));
                    continue;
                }
                try {
                    out.add(new HeaderRule(op, name, headerValue(substitute(sc.text(), env))));
                } catch (IllegalArgumentException x) {
                    problem(e.value(), at, x.getMessage());
                }
            }
        }
        return out;
    }

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");

    static String headerName(String s) {
        if (!TOKEN.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)");
        }
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("host")) {
            throw new IllegalArgumentException("Host cannot be changed by header rules; use the pool's host-header");
        }
        if (PROTECTED_HEADERS.contains(lower)) {
            throw new IllegalArgumentException("'" + s + "' is managed by Sluice (message framing or hop-by-hop)"
                    + " and cannot be changed by header rules");
        }
        return s;
    }

    /** No CR, LF, NUL or other control characters but tab: they would split or corrupt the header block. */
    static String headerValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                throw new IllegalArgumentException("header value contains a control character (code " + (int) c
                        + "); CR, LF and NUL are never allowed");
            }
        }
        return s;
    }

    /** A model or alias name as clients send it: not blank, no control characters, no surrounding spaces. */
    static String modelName(String s) {
        if (s.isBlank()) {
            throw new IllegalArgumentException("a model name must not be empty");
        }
        if (!s.strip().equals(s) || s.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("model name '" + s.strip() + "' has surrounding spaces or control characters");
        }
        return s;
    }

    private static String rewritePath(String s) {
        if (!s.startsWith("/")) {
            throw new IllegalArgumentException("'" + s + "' must start with '/'");
        }
        if (s.indexOf('?') >= 0 || s.indexOf('#') >= 0 || s.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("'" + s + "' must be a path without query, fragment, spaces or control characters");
        }
        return s;
    }

    // ---- binding helpers

    /** A mapping being bound: unknown keys are reported up front; line/column are where to report missing keys. */
    private final class Obj {
        final Map<String, Entry> entries;
        final String path;
        final int line;
        final int column;

        Obj(Map<String, Entry> entries, String path, int line, int column, List<String> known) {
            this.entries = entries;
            this.path = path;
            this.line = line;
            this.column = column;
            for (Entry e : entries.values()) {
                if (!known.contains(e.key())) {
                    String near = closest(e.key(), known);
                    problem(e.line(), e.column(), path(e.key()), "unknown key '" + e.key() + "' ("
                            + (near != null ? "did you mean '" + near + "'?)" : "expected one of: " + String.join(", ", known) + ")"));
                }
            }
        }

        /** The value, or null when absent or written as YAML null: both mean "use the default". */
        Node get(String key) {
            Entry e = entries.get(key);
            return e == null || e.value() instanceof Scalar s && s.text() == null ? null : e.value();
        }

        boolean has(String key) {
            return get(key) != null;
        }

        String path(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }
    }

    /** Null, reported, if {@code n} is not a mapping; YAML null is an empty mapping so that defaults apply. */
    private Obj obj(Node n, String path, int line, int column, String... known) {
        if (n instanceof MapNode m) {
            return new Obj(m.entries(), path, line, column, List.of(known));
        }
        if (n instanceof Scalar s && s.text() == null) {
            return new Obj(Map.of(), path, line, column, List.of(known));
        }
        problem(n, path, "expected a mapping, got " + describe(n));
        return null;
    }

    /** The mapping under {@code key}, empty when absent (so all defaults apply); null if not a mapping. */
    private Obj child(Obj parent, String key, String... known) {
        Entry e = parent.entries.get(key);
        return e == null ? new Obj(Map.of(), parent.path(key), parent.line, parent.column, List.of(known))
                : obj(e.value(), parent.path(key), e.line(), e.column(), known);
    }

    /** The items of a required list; null (reported with {@code whenEmpty} if absent or empty) when there are none. */
    private ListNode items(Obj o, String key, String whenEmpty) {
        Node n = o.get(key);
        if (n == null) {
            Entry e = o.entries.get(key);
            problem(e == null ? o.line : e.line(), e == null ? o.column : e.column(), o.path(key), whenEmpty);
            return null;
        }
        if (!(n instanceof ListNode l)) {
            problem(n, o.path(key), "expected a list, got " + describe(n));
            return null;
        }
        if (l.items().isEmpty()) {
            problem(n, o.path(key), whenEmpty);
            return null;
        }
        return l;
    }

    /**
     * The scalar under {@code key}, substituted and converted; {@code dflt} when absent, and also after
     * reporting a bad value, so binding continues. Converters report bad values as IllegalArgumentException.
     */
    private <T> T value(Obj o, String key, T dflt, String expected, Function<String, T> convert) {
        Node n = o.get(key);
        if (n == null) {
            return dflt;
        }
        if (!(n instanceof Scalar s)) {
            problem(n, o.path(key), "expected " + expected + ", got " + describe(n));
            return dflt;
        }
        try {
            return convert.apply(substitute(s.text(), env));
        } catch (IllegalArgumentException e) {
            problem(n, o.path(key), e.getMessage());
            return dflt;
        }
    }

    private void missing(Obj o, String key) {
        problem(o, "missing required key '" + key + "'");
    }

    private void problem(Obj o, String message) {
        problem(o.line, o.column, o.path, message);
    }

    private void problem(Node n, String path, String message) {
        problem(n.line(), n.column(), path, message);
    }

    private void problem(int line, int column, String path, String message) {
        problems.add(new Problem(source, line, column, path, message));
    }

    private static String describe(Node n) {
        if (n instanceof MapNode) {
            return "a mapping";
        }
        if (n instanceof ListNode) {
            return "a list";
        }
        String text = ((Scalar) n).text();
        return text == null ? "nothing" : "'" + text + "'";
    }

    // ---- converters: all throw IllegalArgumentException with a message for the operator

    /**
     * Shell-style substitution: {@code ${VAR}} (must be set), {@code ${VAR:-default}} (default when unset
     * or empty), {@code $$} for a literal {@code $}; any other {@code $} is kept as is.
     */
    static String substitute(String text, Function<String, String> env) {
        if (text.indexOf('$') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            if (c != '$' || (next != '$' && next != '{')) {
                out.append(c);
                continue;
            }
            if (next == '$') {
                out.append('$');
                i++;
                continue;
            }
            int end = text.indexOf('}', i);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated '${' in '" + text + "' (write $$ for a literal $)");
            }
            String ref = text.substring(i + 2, end);
            int sep = ref.indexOf(":-");
            String name = sep < 0 ? ref : ref.substring(0, sep);
            if (!VAR.matcher(name).matches()) {
                throw new IllegalArgumentException("'${" + ref + "}' is not a valid environment variable reference");
            }
            String v = env.apply(name);
            if (sep >= 0 && (v == null || v.isEmpty())) {
                v = ref.substring(sep + 2);
            }
            if (v == null) {
                throw new IllegalArgumentException("environment variable " + name + " is not set");
            }
            out.append(v);
            i = end;
        }
        return out.toString();
    }

    private static Function<String, Integer> integer(int min, int max) {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a number, got '" + s + "'");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(max == Integer.MAX_VALUE ? "must be at least " + min + ", got " + v
                        : v + " is out of range (" + min + ".." + max + ")");
            }
            return v;
        };
    }

    /** A decimal number in {@code [min, max]}. */
    private static Function<String, Double> fraction(double min, double max) {
        return s -> {
            double v;
            try {
                v = Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a number, got '" + s + "'");
            }
            if (!(v >= min && v <= max)) {
                throw new IllegalArgumentException(s.strip() + " is out of range (" + min + ".." + max + ")");
            }
            return v;
        };
    }

    /** {@code server.warmup: auto}: until the JIT has settled, at most {@link ServerConfig#AUTO_WARMUP_CAP}. */
    private boolean autoWarmup(Obj server) {
        if (!(server.get("warmup") instanceof Scalar w)) {
            return false;
        }
        try {
            return "auto".equals(substitute(w.text(), env).strip());
        } catch (IllegalArgumentException e) {
            return false; // reported where the value is read as a duration
        }
    }

    private static Function<String, Duration> atMost(Duration max) {
        return s -> {
            Duration d = Durations.parse(s);
            if (d.compareTo(max) > 0) {
                throw new IllegalArgumentException(s + " is longer than the maximum, " + Durations.format(max));
            }
            return d;
        };
    }

    private static Function<String, Duration> duration(boolean positive) {
        return s -> {
            Duration d = Durations.parse(s);
            if (positive && d.isZero()) {
                throw new IllegalArgumentException("must be longer than 0");
            }
            return d;
        };
    }

    /** Positive and within an int: Netty's decoder limits are ints. */
    private static Function<String, Long> size() {
        return s -> {
            long v = Sizes.parse(s);
            if (v < 1 || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("'" + s + "' is out of range (1 byte..2GiB)");
            }
            return v;
        };
    }

    private static Function<String, String> oneOf(String what, List<String> allowed) {
        return s -> {
            if (!allowed.contains(s)) {
                throw new IllegalArgumentException(what + " '" + s + "' is not supported (" + String.join(", ", allowed) + ")");
            }
            return s;
        };
    }

    private static boolean bool(String s) {
        switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "true": return true;
            case "false": return false;
            default: throw new IllegalArgumentException("expected true or false, got '" + s + "'");
        }
    }

    /** A bearer token; the value itself never goes into an error message. */
    private static String token(String s) {
        if (!s.isEmpty() && (s.length() < 16 || !s.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw new IllegalArgumentException("the admin token must be at least 16 printable ASCII characters"
                    + " without spaces (the value is not shown)");
        }
        return s;
    }

    private static String nonEmpty(String s) {
        if (s.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return s;
    }

    private static String absolutePath(String s) {
        if (!s.startsWith("/")) {
            throw new IllegalArgumentException("'" + s + "' must start with '/'");
        }
        return s;
    }

    private static String readableFile(String s) {
        Path p = Path.of(s);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("'" + s + "': no such file");
        }
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("'" + s + "': not readable");
        }
        return s;
    }

    private static final Pattern DOMAIN = Pattern.compile("(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private static String domainName(String s) {
        String d = s.strip().toLowerCase(Locale.ROOT);
        if (!DOMAIN.matcher(d).matches() || d.length() > 253) {
            throw new IllegalArgumentException("'" + s + "' is not a domain name");
        }
        return d;
    }

    private static String email(String s) {
        if (!s.matches("[^@\\s]+@[^@\\s]+")) {
            throw new IllegalArgumentException("'" + s + "' is not an email address");
        }
        return s.strip();
    }

    static URI acmeUrl(String s) {
        try {
            URI u = new URI(s.strip());
            if (("https".equalsIgnoreCase(u.getScheme()) || "http".equalsIgnoreCase(u.getScheme())) && u.getHost() != null) {
                return u;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new IllegalArgumentException("'" + s + "' is not an https URL of an ACME directory");
    }

    /** Listeners bind literal addresses only: a bind that depends on DNS fails late and unclearly. */
    private static String listenHost(String s) {
        if (s.equals("localhost") || IPV4.matcher(s).matches() || IPV6.matcher(s).matches() && literal(s) != null) {
            return s;
        }
        throw new IllegalArgumentException("'" + s + "' is not a literal IP address or localhost");
    }

    /** Parses an IP literal; only called on validated literals, so never a DNS lookup. */
    private static InetAddress literal(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** True if two listener hosts cannot bind the same port: same address, or either is a wildcard. */
    private static boolean clash(String a, String b) {
        InetAddress x = literal(a.equals("localhost") ? "127.0.0.1" : a);
        InetAddress y = literal(b.equals("localhost") ? "127.0.0.1" : b);
        return x == null || y == null || x.equals(y) || x.isAnyLocalAddress() || y.isAnyLocalAddress();
    }

    static URI httpUrl(String s) {
        String expected = " (expected http://host:port or https://host[:port])";
        URI u;
        try {
            u = new URI(s.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + s + "' is not an http URL" + expected);
        }
        boolean scheme = "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
        if (!scheme || u.getHost() == null || u.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'" + s + "' is not an http URL" + expected);
        }
        if (u.getPort() == 0 || u.getPort() > 65535) {
            throw new IllegalArgumentException("'" + s + "': port " + u.getPort() + " is out of range (1..65535)");
        }
        String path = u.getRawPath();
        if (!(path == null || path.isEmpty() || path.equals("/")) || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException("'" + s + "' must not have a path or query" + expected);
        }
        return u;
    }

    /** A file of one or more PEM certificates, parsed here so that a broken one is reported with its line. */
    private static String pemCertificates(String s) {
        readableFile(s);
        try (var in = Files.newInputStream(Path.of(s))) {
            if (java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException("'" + s + "': no PEM certificate in the file");
            }
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalArgumentException("'" + s + "': not a PEM certificate file (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("'" + s + "': cannot read (" + e.getMessage() + ")");
        }
        return s;
    }

    private static final Pattern PEM_KEY = Pattern.compile("-----BEGIN (RSA |EC )?PRIVATE KEY-----");

    /** A PEM private key (PKCS#8, PKCS#1 or SEC1), unencrypted; its parsing is the TLS layer's. */
    private static String pemKey(String s) {
        readableFile(s);
        String text;
        try {
            text = Files.readString(Path.of(s), java.nio.charset.StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalArgumentException("'" + s + "': cannot read (" + e.getMessage() + ")");
        }
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED")) {
            throw new IllegalArgumentException("'" + s + "': encrypted private keys are not supported");
        }
        if (!PEM_KEY.matcher(text).find()) {
            throw new IllegalArgumentException("'" + s + "': no PEM private key in the file");
        }
        return s;
    }

    /** SNI and the name to verify: a DNS name or an IP literal. */
    private static String serverName(String s) {
        String t = s.strip();
        if (io.netty.util.NetUtil.isValidIpV4Address(t) || io.netty.util.NetUtil.isValidIpV6Address(t)) {
            return t;
        }
        String d = domainName(t);
        if (d.startsWith("*.")) {
            throw new IllegalArgumentException("'" + s + "' is not a host name (no wildcards)");
        }
        return d;
    }

    private static final Pattern HOST_VALUE = Pattern.compile("([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|\\[[0-9A-Fa-f:.]+])(:[0-9]{1,5})?");

    /** {@code pass}, {@code backend}, or a literal {@code host[:port]}. */
    private static String hostHeader(String s) {
        String t = s.strip();
        if (t.equals(PoolConfig.HOST_PASS) || t.equals(PoolConfig.HOST_BACKEND)) {
            return t;
        }
        if (!HOST_VALUE.matcher(t).matches()) {
            throw new IllegalArgumentException("'" + s + "' is neither pass, backend nor a host[:port] value");
        }
        return t;
    }

    /** The known key within edit distance 2 (1 for short keys, where 2 suggests nonsense), or null. */
    static String closest(String key, List<String> known) {
        String best = null;
        int bestDistance = Math.min(2, Math.max(1, key.length() / 2)) + 1;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
