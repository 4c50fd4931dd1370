package io.sluice.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole gateway configuration, validated: if one of these exists, the gateway can start with it.
 *
 * @param pools  by name, in file order (order matters for logs and the admin API, not for routing)
 * @param admin  access to the admin API and its operator actions
 * @param compat the optional compatibility listener ({@link CompatConfig#NONE} when absent)
 * @param source where it was read from, for logs and the admin API
 * @param accessLog null when requests are not logged
 * @param models    model aliases ({@link ModelsConfig#NONE} when absent); the models themselves are per pool
 * @param providers the LLM APIs called on clients' behalf, by name; their own pools are in {@code pools}
 * @param modelGroups model names that stand for ordered lists of provider models (fallbacks)
 * @param telemetry metrics pushed to an OpenTelemetry collector ({@link TelemetryConfig#NONE} when absent)
 */
public record SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                           AdminConfig admin, CompatConfig compat, String source, AccessLogConfig accessLog,
                           ModelsConfig models, Map<String, ProviderConfig> providers,
                           Map<String, ModelGroupConfig> modelGroups, ServicesConfig services, TelemetryConfig telemetry) {
    public SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                        AdminConfig admin, CompatConfig compat, String source, AccessLogConfig accessLog,
                        ModelsConfig models, Map<String, ProviderConfig> providers,
                        Map<String, ModelGroupConfig> modelGroups, ServicesConfig services) {
        this(server, listeners, pools, admin, compat, source, accessLog, models, providers, modelGroups, services,
                TelemetryConfig.NONE);
    }

    public SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                        AdminConfig admin, CompatConfig compat, String source, AccessLogConfig accessLog,
                        ModelsConfig models, Map<String, ProviderConfig> providers,
                        Map<String, ModelGroupConfig> modelGroups) {
        this(server, listeners, pools, admin, compat, source, accessLog, models, providers, modelGroups, ServicesConfig.NONE);
    }

    public SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                        AdminConfig admin, CompatConfig compat, String source, AccessLogConfig accessLog,
                        ModelsConfig models) {
        this(server, listeners, pools, admin, compat, source, accessLog, models, Map.of(), Map.of());
    }

    public SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                        AdminConfig admin, CompatConfig compat, String source, AccessLogConfig accessLog) {
        this(server, listeners, pools, admin, compat, source, accessLog, ModelsConfig.NONE);
    }

    public SluiceConfig(ServerConfig server, List<ListenerConfig> listeners, Map<String, PoolConfig> pools,
                        AdminConfig admin, CompatConfig compat, String source) {
        this(server, listeners, pools, admin, compat, source, null);
    }

    public SluiceConfig {
        Objects.requireNonNull(compat, "compat");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(admin, "admin");
        listeners = List.copyOf(listeners);
        pools = Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        Objects.requireNonNull(source, "source");
        models = models == null ? ModelsConfig.NONE : models;
        providers = providers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(providers));
        modelGroups = modelGroups == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(modelGroups));
        telemetry = telemetry == null ? TelemetryConfig.NONE : telemetry;
    }
}
