package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;

/**
 * Anthropic's Messages API on the client side ({@code POST /v1/messages}): its requests become OpenAI
 * chat requests, and OpenAI answers become Anthropic ones, so an Anthropic SDK reaches any provider.
 */
public final class AnthropicMessages {
    private AnthropicMessages() {
    }

    /**
     * @param messagesRequest an Anthropic Messages request (model, system, messages, max_tokens, stream, tools, ...)
     * @return the equivalent OpenAI chat completions request (model kept as given)
     * @throws TranslationException for what cannot be expressed
     */
    public static ObjectNode toChat(JsonNode messagesRequest) {
        throw new UnsupportedOperationException("TODO");
    }

    /** An OpenAI {@code chat.completion} as an Anthropic {@code message}. */
    public static ObjectNode fromCompletion(JsonNode completion) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Encodes OpenAI chunks as Anthropic's SSE ({@code event: message_start} ... {@code event: message_stop});
     * an error becomes {@code event: error}.
     *
     * @param out receives SSE text, one or more whole events per call
     */
    public static ChunkSink encoder(String model, Consumer<String> out) {
        throw new UnsupportedOperationException("TODO");
    }

    /** An error in Anthropic's shape: {@code {"type":"error","error":{"type":...,"message":...}}}. */
    public static String errorJson(ProviderError e) {
        throw new UnsupportedOperationException("TODO");
    }
}
