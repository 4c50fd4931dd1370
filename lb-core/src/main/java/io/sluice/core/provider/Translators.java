package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Translation between OpenAI's chat completions (the pivot) and each provider's wire format, both
 * ways: the request out, the response (streamed or whole) and errors back.
 */
public final class Translators {
    private Translators() {
    }

    /**
     * @param chat  an OpenAI chat completions request (messages, stream, temperature, max_tokens, tools, ...);
     *              not modified
     * @param model the model name the provider knows
     * @throws TranslationException for what the provider's format cannot express
     */
    public static UpstreamCall request(WireFormat upstream, JsonNode chat, String model) {
        throw new UnsupportedOperationException("TODO");
    }

    /** A decoder for the provider's streamed answer to {@link #request}; {@code model} goes into every chunk. */
    public static StreamDecoder streamDecoder(WireFormat upstream, String model, ChunkSink sink) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The provider's whole (non-streamed) answer as an OpenAI {@code chat.completion}. */
    public static ObjectNode completion(WireFormat upstream, JsonNode body, String model) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The usage in a {@code chat.completion} made by {@link #completion}, or null. */
    public static Usage usage(JsonNode completion) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * A provider's error answer (status >= 400) in one shape.
     *
     * @param body       the error body as received (may be empty, or not JSON)
     * @param retryAfter the response's Retry-After header, or null
     */
    public static ProviderError error(WireFormat upstream, int status, byte[] body, String retryAfter) {
        throw new UnsupportedOperationException("TODO");
    }
}
