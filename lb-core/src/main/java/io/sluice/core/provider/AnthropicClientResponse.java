package io.sluice.core.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.util.Set;
import java.util.UUID;

/**
 * OpenAI answers as Anthropic ones: the whole {@code message} (Anthropic's "Create a Message" response) and the
 * error body (Anthropic's "Errors" reference). Shared by {@link AnthropicClientStream}.
 */
final class AnthropicClientResponse {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** The error types of Anthropic's "Errors" reference; a provider code that already is one is kept. */
    static final Set<String> ERROR_TYPES = Set.of("invalid_request_error", "authentication_error", "billing_error",
            "permission_error", "not_found_error", "conflict_error", "request_too_large", "rate_limit_error",
            "api_error", "timeout_error", "overloaded_error");

    private AnthropicClientResponse() {
    }

    static ObjectNode fromCompletion(JsonNode completion) {
        if (completion == null || !completion.isObject()) {
            throw new TranslationException("the upstream answer is not a chat.completion object", null);
        }
        JsonNode choice = completion.path("choices").path(0);
        JsonNode message = choice.path("message");
        ObjectNode out = NODES.objectNode();
        out.put("id", messageId(completion.path("id").asText(null)));
        out.put("type", "message");
        out.put("role", "assistant");
        out.put("model", completion.path("model").asText(""));
        ArrayNode content = out.putArray("content");
        String text = message.path("content").isTextual() ? message.get("content").textValue() : "";
        String refusal = message.path("refusal").isTextual() ? message.get("refusal").textValue() : "";
        if (!text.isEmpty()) {
            content.addObject().put("type", "text").put("text", text);
        } else if (!refusal.isEmpty()) {
            content.addObject().put("type", "text").put("text", refusal);
        }
        JsonNode calls = message.path("tool_calls");
        for (int i = 0; i < calls.size(); i++) {
            JsonNode call = calls.get(i);
            String at = "choices[0].message.tool_calls[" + i + "]";
            content.addObject()
                    .put("type", "tool_use")
                    .put("id", toolUseId(call.path("id").asText(""), i))
                    .put("name", call.path("function").path("name").asText(""))
                    .set("input", input(call.path("function").path("arguments").asText(""), at));
        }
        String stop = stopReason(choice.path("finish_reason").asText(null));
        if (text.isEmpty() && !refusal.isEmpty() && "end_turn".equals(stop)) {
            stop = "refusal";
        }
        out.put("stop_reason", stop == null ? "end_turn" : stop);
        out.putNull("stop_sequence");
        JsonNode usage = completion.path("usage");
        out.putObject("usage")
                .put("input_tokens", usage.path("prompt_tokens").asLong(0))
                .put("output_tokens", usage.path("completion_tokens").asLong(0));
        return out;
    }

    /**
     * A tool call's arguments as the object Anthropic's {@code tool_use.input} must be: empty arguments are
     * {@code {}}; arguments that are not a JSON object are refused rather than guessed at.
     */
    private static JsonNode input(String arguments, String at) {
        if (arguments.isBlank()) {
            return NODES.objectNode();
        }
        JsonNode parsed;
        try {
            parsed = Json.MAPPER.readTree(arguments);
        } catch (JsonProcessingException e) {
            parsed = null;
        }
        if (parsed == null || !parsed.isObject()) {
            throw new TranslationException("the model's tool call arguments are not a JSON object, which an"
                    + " Anthropic tool_use input must be", at + ".function.arguments");
        }
        return parsed;
    }

    /** OpenAI's finish_reason as Anthropic's stop_reason; null when unknown or absent. */
    static String stopReason(String finishReason) {
        if (finishReason == null) {
            return null;
        }
        return switch (finishReason) {
            case "stop" -> "end_turn";
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> "end_turn";
        };
    }

    /** {@code msg_} and the completion's id without OpenAI's {@code chatcmpl-} prefix; random if none. */
    static String messageId(String completionId) {
        if (completionId == null || completionId.isEmpty()) {
            return "msg_" + UUID.randomUUID().toString().replace("-", "");
        }
        if (completionId.startsWith("msg_")) {
            return completionId;
        }
        return "msg_" + (completionId.startsWith("chatcmpl-") ? completionId.substring(9) : completionId);
    }

    /** The upstream's tool call id, or one made up when it gave none (Anthropic's tool_use needs an id). */
    static String toolUseId(String id, int index) {
        return id.isEmpty() ? "toolu_" + UUID.randomUUID().toString().replace("-", "") + "_" + index : id;
    }

    static ObjectNode errorBody(ProviderError e) {
        ObjectNode body = NODES.objectNode().put("type", "error");
        body.putObject("error")
                .put("type", errorType(e))
                .put("message", e.message() == null ? "" : e.message());
        return body;
    }

    static String errorType(ProviderError e) {
        if (e.code() != null && ERROR_TYPES.contains(e.code())) {
            return e.code();
        }
        return switch (e.status()) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 409 -> "conflict_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 504 -> "timeout_error";
            case 529 -> "overloaded_error";
            default -> e.status() >= 400 && e.status() < 500 ? "invalid_request_error" : "api_error";
        };
    }

    static String write(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain nodes always serialises
        }
    }
}
