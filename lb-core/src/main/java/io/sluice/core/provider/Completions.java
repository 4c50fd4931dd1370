package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;

/** Building and reading OpenAI {@code chat.completion} objects (OpenAI API reference, "The chat completion object"). */
final class Completions {
    private Completions() {
    }

    /**
     * @param content null when the answer is only tool calls
     * @param usage   null when the provider reported none (then no {@code usage} field)
     */
    static ObjectNode of(String id, String model, String content, ArrayNode toolCalls, String finishReason, Usage usage) {
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("id", id);
        c.put("object", "chat.completion");
        c.put("created", System.currentTimeMillis() / 1000);
        c.put("model", model);
        ObjectNode choice = c.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        if (content == null) {
            message.putNull("content");
        } else {
            message.put("content", content);
        }
        if (toolCalls != null && !toolCalls.isEmpty()) {
            message.set("tool_calls", toolCalls);
        }
        choice.put("finish_reason", finishReason);
        if (usage != null) {
            c.set("usage", ChunkStream.usageJson(usage));
        }
        return c;
    }

    static Usage usage(JsonNode completion) {
        JsonNode u = completion == null ? null : completion.get("usage");
        if (u == null || !u.isObject()) {
            return null;
        }
        return new Usage(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong());
    }
}
