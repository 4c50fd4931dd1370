package io.sluice.admin;

import io.sluice.core.model.ModelCatalog;
import io.sluice.core.pool.BackendPool;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** What the admin API reads of the running gateway; implemented by the server. */
public interface AdminContext {

    Collection<BackendPool> pools();

    List<ListenerInfo> listeners();

    long startedAtMillis();

    String version();

    /**
     * The models of the running config (read per request: a reload replaces it); by-model routes list
     * these on {@code GET /v1/models}. The server overrides this with {@code ModelCatalog.of(config)}.
     */
    default ModelCatalog models() {
        return ModelCatalog.EMPTY;
    }

    /**
     * Each provider's format, whether it is configured, and its last reachability check (never its key),
     * by name, for {@code /api/health}; empty without providers.
     */
    default Map<String, Object> providerHealth() {
        return Map.of();
    }

    /**
     * The Ollama provider's view for {@code /api/gpu/status} (its models, the loaded ones, whether it
     * runs), asked now; completes with null when there is no Ollama provider.
     */
    default CompletionStage<Map<String, Object>> ollamaStatus() {
        return CompletableFuture.completedFuture(null);
    }

    /** A listener as it is bound (port is the actual one, even when configured as 0). */
    record ListenerInfo(String name, String host, int port, String protocol, List<RouteInfo> routes) {
    }

    record RouteInfo(String path, String pool, boolean admin) {
    }
}
