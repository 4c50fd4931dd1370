package io.sluice.admin;

import io.sluice.core.model.ModelCatalog;
import io.sluice.core.pool.BackendPool;
import java.util.Collection;
import java.util.List;

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

    /** A listener as it is bound (port is the actual one, even when configured as 0). */
    record ListenerInfo(String name, String host, int port, String protocol, List<RouteInfo> routes) {
    }

    record RouteInfo(String path, String pool, boolean admin) {
    }
}
