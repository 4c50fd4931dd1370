package io.sluice.admin.inference;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminException;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.admin.Json;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /api/v1/inference/up} {@code {"model","dtype","replicas"}}, {@code POST /api/v1/inference/down}
 * {@code {"model"}} (optional: all when absent), and {@code GET /api/v1/inference}.
 */
public final class InferenceEndpoints {
    private final InferenceManager manager;

    public InferenceEndpoints(InferenceManager manager) {
        this.manager = manager;
    }

    public AdminRoutes register(AdminRoutes routes) {
        return routes
                .add(HttpMethod.GET, "/api/v1/inference", r -> AdminResponse.ok(Map.of("processes", manager.list())))
                .addAsync(HttpMethod.POST, "/api/v1/inference/up", this::up)
                .addAsync(HttpMethod.POST, "/api/v1/inference/down", this::down);
    }

    private CompletionStage<AdminResponse> up(AdminRequest r) {
        JsonNode body = object(r, true);
        String model = body.path("model").asText("");
        if (model.isEmpty() || model.chars().anyMatch(Character::isWhitespace)) {
            throw bad("'model' is required and must not contain spaces");
        }
        String dtype = body.path("dtype").asText("auto");
        if (!dtype.matches("[A-Za-z0-9_]+")) {
            throw bad("'dtype' must be a word such as auto, float16, bfloat16");
        }
        int replicas = body.path("replicas").asInt(1);
        if (replicas < 1 || replicas > 64) {
            throw bad("'replicas' must be between 1 and 64");
        }
        return manager.up(model, dtype, replicas).thenApply(ps -> AdminResponse.ok(Map.of("status", "serving", "processes", ps)));
    }

    private CompletionStage<AdminResponse> down(AdminRequest r) {
        JsonNode body = object(r, false);
        String model = body == null || !body.hasNonNull("model") ? null : body.get("model").asText();
        return manager.down(model).thenApply(ps -> AdminResponse.ok(Map.of("stopped", ps)));
    }

    private static JsonNode object(AdminRequest r, boolean required) {
        if (r.body().length == 0 && !required) {
            return null;
        }
        try {
            JsonNode n = Json.MAPPER.readTree(r.body());
            if (n == null || !n.isObject()) {
                throw bad("expected a JSON object");
            }
            return n;
        } catch (java.io.IOException e) {
            throw bad("malformed JSON");
        }
    }

    private static AdminException bad(String message) {
        return new AdminException(HttpResponseStatus.BAD_REQUEST, "bad_request", message);
    }
}
