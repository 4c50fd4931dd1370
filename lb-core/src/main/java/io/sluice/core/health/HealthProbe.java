package io.sluice.core.health;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.HealthConfig;
import java.util.concurrent.CompletionStage;

/** One active check of one backend; the transport (Netty HTTP) lives outside the core. */
@FunctionalInterface
public interface HealthProbe {

    /** Completes, never exceptionally, within about {@code config.timeout()}. */
    CompletionStage<Result> probe(Backend backend, HealthConfig config);

    /**
     * @param conclusive false when the check could not run for a reason of this process (out of file
     *                   descriptors): such a result changes nothing about the backend
     */
    record Result(boolean ok, String detail, boolean conclusive) {
        public static Result ok(String detail) {
            return new Result(true, detail, true);
        }

        public static Result failed(String detail) {
            return new Result(false, detail, true);
        }

        public static Result inconclusive(String detail) {
            return new Result(false, detail, false);
        }
    }
}
