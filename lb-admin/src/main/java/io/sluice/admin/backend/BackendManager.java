package io.sluice.admin.backend;

import io.sluice.core.backend.Backend;
import java.util.concurrent.CompletionStage;

/** Changes the set of backends of the running gateway; implemented by the server, which owns pools and health checks. */
public interface BackendManager {

    /**
     * Adds a backend to a pool. With health checks on, it takes traffic once they pass.
     *
     * @throws io.sluice.admin.AdminException for an unknown pool or a duplicate name or address
     */
    Backend add(String pool, String name, String host, int port, int weight);

    /**
     * Stops new requests to the backend, waits (off the event loop) until its in-flight requests
     * have finished or the drain timeout passed, then removes it.
     *
     * @return completes with the number of requests still in flight when it was removed (0 after a clean drain)
     */
    CompletionStage<Integer> remove(Backend backend);
}
