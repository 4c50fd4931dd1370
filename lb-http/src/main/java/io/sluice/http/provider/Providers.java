package io.sluice.http.provider;

import io.sluice.core.config.ModelGroupConfig;
import io.sluice.core.config.ProviderConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.core.exchange.StateKey;
import io.sluice.core.model.ModelCatalog;
import java.util.Map;

/**
 * The providers and model groups of one config, read per request (a reload replaces the snapshot).
 *
 * @param catalog the pools' models, so {@code /v1/messages} for a model of the vLLM pool reaches it
 */
public record Providers(Map<String, ProviderConfig> providers, Map<String, ModelGroupConfig> groups, ModelCatalog catalog) {
    public static final Providers NONE = new Providers(Map.of(), Map.of(), ModelCatalog.EMPTY);

    /** The provider a request is sent to, set by the gateway filter (or the pass-through route). */
    static final StateKey<ProviderConfig> CHOSEN = StateKey.of("provider");

    public static Providers of(SluiceConfig config, ModelCatalog catalog) {
        return new Providers(config.providers(), config.modelGroups(), catalog);
    }

    public ProviderConfig get(String name) {
        return providers.get(name);
    }

    /** The provider whose pool this is (a pool Sluice made for it, or the one a provider names), or null. */
    public ProviderConfig byPool(String pool) {
        for (ProviderConfig p : providers.values()) {
            if (p.pool().equals(pool)) {
                return p;
            }
        }
        return null;
    }
}
