package io.sluice.admin.inference;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Launches and stops supervised inference server processes; implemented by the server. */
public interface InferenceManager {

    /**
     * Starts {@code replicas} processes and completes once all of them serve (passed their health
     * checks in the pool), or fails with an {@link io.sluice.admin.AdminException} carrying the
     * reason and the last lines of the failed process's output (the others are stopped again).
     */
    CompletionStage<List<Map<String, Object>>> up(String model, String dtype, int replicas);

    /** Drains, removes and stops the processes of {@code model} (all when null); completes when they have exited. */
    CompletionStage<List<Map<String, Object>>> down(String model);

    /** The supervised processes now. */
    List<Map<String, Object>> list();
}
