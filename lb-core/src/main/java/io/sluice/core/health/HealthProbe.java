package io.sluice.core.health;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.HealthConfig;
import java.util.concurrent.CompletionStage;

/** One active check of one backend; the transport (Netty HTTP) lives outside the core. */
@FunctionalInterface
public interface HealthProbe {

    /** Completes, never exceptionally, within about {@code config.timeout()}. */
    CompletionStage<Result> probe(Backend backend, HealthConfig config);

    record Result(boolean ok, String detail) {
        public static Result ok(String detail) {
            return new Result(true, detail);
        }

        public static Result failed(String detail) {
            return new Result(false, detail);
        }
    }
}
