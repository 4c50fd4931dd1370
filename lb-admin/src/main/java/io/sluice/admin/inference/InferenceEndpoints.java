package io.sluice.admin.inference;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.admin.AdminException;
import io.sluice.admin.AdminRequest;
import io.sluice.admin.AdminResponse;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.http.Json;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
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

    /**
     * A model name or Hugging Face id ({@code org/name}, {@code name:tag}, a revision after {@code @}).
     * It lands in argv: a leading {@code -} would make it an option of the engine, and {@code ..}
     * would walk out of a model directory.
     */
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}");
    /** vLLM's {@code --dtype} choices. */
    public static final Set<String> DTYPES = Set.of("auto", "half", "float16", "bfloat16", "float", "float32");
    public static final int MAX_REPLICAS = 16;

    /** Whether {@code model} may be passed to an engine's command line. */
    public static boolean validModel(String model) {
        return model != null && MODEL.matcher(model).matches() && !model.contains("..");
    }

    private CompletionStage<AdminResponse> up(AdminRequest r) {
        JsonNode body = object(r, true);
        JsonNode m = body.path("model");
        if (!m.isTextual() || !validModel(m.asText())) {
            throw bad("'model' is required: letters, digits and . _ : / @ + -, starting with a letter or digit,"
                    + " at most 200 characters, no '..'");
        }
        String model = m.asText();
        JsonNode d = body.path("dtype");
        String dtype = d.isMissingNode() || d.isNull() ? "auto" : d.isTextual() ? d.asText() : "";
        if (!DTYPES.contains(dtype)) {
            throw bad("'dtype' must be one of " + new java.util.TreeSet<>(DTYPES));
        }
        JsonNode n = body.path("replicas");
        if (!n.isMissingNode() && !n.isNull() && !n.canConvertToExactIntegral()) {
            throw bad("'replicas' must be a whole number");
        }
        long replicas = n.isMissingNode() || n.isNull() ? 1 : n.asLong();
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw bad("'replicas' must be between 1 and " + MAX_REPLICAS);
        }
        return manager.up(model, dtype, (int) replicas).thenApply(ps -> AdminResponse.ok(Map.of("status", "serving", "processes", ps)));
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
