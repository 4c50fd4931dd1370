package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * OpenAI {@code chat.completion.chunk}s as Anthropic's SSE, the event flow of Anthropic's "Streaming Messages"
 * reference: {@code message_start}; per content block {@code content_block_start}, {@code content_block_delta}s
 * ({@code text_delta} or {@code input_json_delta}), {@code content_block_stop}; {@code message_delta} (stop
 * reason, cumulative usage); {@code message_stop}. Or {@code event: error} and nothing after.
 *
 * <p>OpenAI sends the usage after the finish_reason (a usage-only chunk), so {@code message_delta} waits for
 * that chunk or for {@link #done}. No {@code ping} events are sent (the reference allows any number, so zero).
 * Not thread-safe: one stream's chunks arrive in order on one thread.
 */
final class AnthropicClientStream implements ChunkSink {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private enum Kind { NONE, TEXT, TOOL }

    private final String model;
    private final Consumer<String> out;
    private boolean started;
    private boolean ended;
    private Kind open = Kind.NONE;
    /** The index of the next content block in the Anthropic message. */
    private int nextBlock;
    /** OpenAI tool call index → Anthropic block index, for a tool call's late deltas. */
    private final Map<Integer, Integer> toolBlocks = new HashMap<>();
    private String stopReason;
    private boolean refused;
    private long inputTokens = -1;
    private long outputTokens = -1;
    private boolean inputSentAtStart;
    private final StringBuilder pending = new StringBuilder();

    AnthropicClientStream(String model, Consumer<String> out) {
        this.model = model;
        this.out = out;
    }

    @Override
    public void chunk(ObjectNode chunk) {
        if (ended) {
            return;
        }
        boolean withUsage = usage(chunk.get("usage"));
        start(chunk);
        JsonNode choice = chunk.path("choices").path(0);
        if (choice.isObject()) {
            JsonNode delta = choice.path("delta");
            text(delta.path("content"), false);
            text(delta.path("refusal"), true);
            JsonNode calls = delta.path("tool_calls");
            for (int i = 0; i < calls.size(); i++) {
                toolCall(calls.get(i));
            }
            JsonNode finish = choice.get("finish_reason");
            if (finish != null && finish.isTextual()) {
                closeBlock();
                stopReason = AnthropicClientResponse.stopReason(finish.textValue());
            }
        }
        if (stopReason != null && withUsage) {
            finish(); // the usage that follows (or comes with) the finish_reason is the final one
        }
        flush();
    }

    @Override
    public void done() {
        if (ended) {
            return;
        }
        start(null);
        closeBlock();
        finish();
        flush();
    }

    @Override
    public void error(ProviderError error) {
        if (ended) {
            return;
        }
        ended = true;
        event("error", AnthropicClientResponse.errorBody(error));
        flush();
    }

    /** @return whether the chunk carried usage */
    private boolean usage(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return false;
        }
        if (usage.path("prompt_tokens").isNumber()) {
            inputTokens = usage.get("prompt_tokens").asLong();
        }
        if (usage.path("completion_tokens").isNumber()) {
            outputTokens = usage.get("completion_tokens").asLong();
        }
        return true;
    }

    private void start(JsonNode chunk) {
        if (started) {
            return;
        }
        started = true;
        inputSentAtStart = inputTokens >= 0;
        ObjectNode message = NODES.objectNode()
                .put("id", AnthropicClientResponse.messageId(chunk == null ? null : chunk.path("id").asText(null)))
                .put("type", "message")
                .put("role", "assistant");
        message.putArray("content");
        message.put("model", model);
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.putObject("usage").put("input_tokens", Math.max(inputTokens, 0)).put("output_tokens", 0);
        ObjectNode event = NODES.objectNode().put("type", "message_start");
        event.set("message", message);
        event("message_start", event);
    }

    private void text(JsonNode content, boolean refusal) {
        if (!content.isTextual() || content.textValue().isEmpty()) {
            return;
        }
        refused |= refusal;
        if (open != Kind.TEXT) {
            closeBlock();
            open = Kind.TEXT;
            ObjectNode block = NODES.objectNode().put("type", "text").put("text", "");
            event("content_block_start", blockStart(block));
        }
        ObjectNode delta = NODES.objectNode().put("type", "text_delta").put("text", content.textValue());
        event("content_block_delta", blockDelta(nextBlock, delta));
    }

    /**
     * A new OpenAI tool call index opens a tool_use block (its first delta carries id and name); later deltas
     * append their argument fragments as {@code input_json_delta}, also those of a call whose block was closed
     * by another one in between (sent to that call's block index, which is what clients accumulate by).
     */
    private void toolCall(JsonNode call) {
        int index = call.path("index").asInt(0);
        String arguments = call.path("function").path("arguments").asText("");
        Integer known = toolBlocks.get(index);
        if (known != null) {
            if (!arguments.isEmpty()) {
                event("content_block_delta", blockDelta(known, jsonDelta(arguments)));
            }
            return;
        }
        closeBlock();
        open = Kind.TOOL;
        toolBlocks.put(index, nextBlock);
        ObjectNode block = NODES.objectNode()
                .put("type", "tool_use")
                .put("id", AnthropicClientResponse.toolUseId(call.path("id").asText(""), index))
                .put("name", call.path("function").path("name").asText(""));
        block.putObject("input");
        event("content_block_start", blockStart(block));
        // As in the reference's tool use example, the first delta may be empty.
        event("content_block_delta", blockDelta(nextBlock, jsonDelta(arguments)));
    }

    private void closeBlock() {
        if (open == Kind.NONE) {
            return;
        }
        event("content_block_stop", NODES.objectNode().put("type", "content_block_stop").put("index", nextBlock));
        open = Kind.NONE;
        nextBlock++;
    }

    private void finish() {
        ended = true;
        String reason = stopReason == null ? "end_turn" : stopReason;
        if (refused && "end_turn".equals(reason)) {
            reason = "refusal";
        }
        ObjectNode event = NODES.objectNode().put("type", "message_delta");
        event.putObject("delta").put("stop_reason", reason).putNull("stop_sequence");
        ObjectNode usage = event.putObject("usage");
        if (!inputSentAtStart && inputTokens >= 0) {
            usage.put("input_tokens", inputTokens);
        }
        usage.put("output_tokens", Math.max(outputTokens, 0));
        event("message_delta", event);
        event("message_stop", NODES.objectNode().put("type", "message_stop"));
    }

    private ObjectNode blockStart(ObjectNode block) {
        ObjectNode event = NODES.objectNode().put("type", "content_block_start").put("index", nextBlock);
        event.set("content_block", block);
        return event;
    }

    private static ObjectNode blockDelta(int index, ObjectNode delta) {
        ObjectNode event = NODES.objectNode().put("type", "content_block_delta").put("index", index);
        event.set("delta", delta);
        return event;
    }

    private static ObjectNode jsonDelta(String partial) {
        return NODES.objectNode().put("type", "input_json_delta").put("partial_json", partial);
    }

    private void event(String type, ObjectNode data) {
        pending.append("event: ").append(type).append("\ndata: ")
                .append(AnthropicClientResponse.write(data)).append("\n\n");
    }

    private void flush() {
        if (!pending.isEmpty()) {
            String text = pending.toString();
            pending.setLength(0);
            out.accept(text);
        }
    }
}
