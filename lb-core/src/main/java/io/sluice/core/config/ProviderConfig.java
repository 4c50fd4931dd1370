package io.sluice.core.config;

import io.sluice.core.provider.WireFormat;
import java.util.List;
import java.util.Objects;

/**
 * An LLM API that Sluice calls on behalf of clients (OpenAI, Anthropic, Gemini, an Ollama, the vLLM
 * pool...), keeping its key server-side. Each is served by a pool: one Sluice makes for its base URL
 * ({@code @<name>}), or, for {@code pool:}, a pool of the file.
 *
 * @param format    the provider's wire format
 * @param pool      the pool requests go to
 * @param basePath  the base URL's path without a trailing slash ({@code /v1} for OpenAI's), prepended to
 *                  the provider's API paths; for a {@code pool:} provider {@code /v1}
 * @param baseUrl   as configured, for the admin API and errors (never contains the key)
 * @param apiKey    the key sent upstream; empty when none is configured. Never logged or shown:
 *                  {@link #toString} leaves it out
 * @param needsKey  true for cloud providers: without a key the provider is "not configured" and never called
 * @param version   Anthropic's {@code anthropic-version} sent when the client sends none; null for others
 * @param simulator non-null when the provider is simulated in-process (demo and tests)
 * @param autoStart the command Sluice starts and supervises to serve this provider ({@code ollama serve} for an
 *                  Ollama with {@code auto-start: true}); empty when Sluice starts nothing
 */
public record ProviderConfig(String name, WireFormat format, String pool, String basePath, String baseUrl, String apiKey,
                             boolean needsKey, String version, ProviderSimulatorConfig simulator, List<String> autoStart) {
    /** The command {@code auto-start: true} runs unless {@code auto-start-command} says otherwise. */
    public static final List<String> OLLAMA_SERVE = List.of("ollama", "serve");

    /** The pool Sluice makes for a provider named {@code name}. */
    public static String poolName(String name) {
        return "@" + name;
    }

    public ProviderConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(pool, "pool");
        basePath = basePath == null || basePath.equals("/") ? "" : basePath.replaceAll("/+$", "");
        apiKey = apiKey == null ? "" : apiKey;
        autoStart = autoStart == null ? List.of() : List.copyOf(autoStart);
    }

    /** Without a process to start. */
    public ProviderConfig(String name, WireFormat format, String pool, String basePath, String baseUrl, String apiKey,
                          boolean needsKey, String version, ProviderSimulatorConfig simulator) {
        this(name, format, pool, basePath, baseUrl, apiKey, needsKey, version, simulator, List.of());
    }

    /** Configured: it has the key it needs. A provider that is not is never called. */
    public boolean configured() {
        return !needsKey || !apiKey.isEmpty();
    }

    /** True when its pool is one Sluice made for it (not a pool of the file, such as the vLLM one). */
    public boolean ownPool() {
        return pool.equals(poolName(name));
    }

    @Override
    public String toString() {
        return "ProviderConfig[" + name + " " + format + " " + baseUrl + " key=" + (apiKey.isEmpty() ? "none" : "set") + "]";
    }

    /** An in-process provider simulator: its wire format, and the key it expects. */
    public record ProviderSimulatorConfig(String apiKey, int port, java.time.Duration ttft, java.time.Duration itl) {
        @Override
        public String toString() {
            return "ProviderSimulatorConfig[port=" + port + "]";
        }
    }
}
