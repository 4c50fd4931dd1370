package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Translation between OpenAI's chat completions (the pivot) and each provider's wire format, both
 * ways: the request out, the response (streamed or whole) and errors back. Nothing here blocks: it runs on
 * the event loop. Which request fields each provider refuses is listed on {@code AnthropicUpstream},
 * {@code GeminiUpstream} and {@code OllamaUpstream}; OpenAI requests pass through.
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
        if (chat == null || !chat.isObject()) {
            throw new TranslationException("the request body must be a JSON object", null);
        }
        return switch (upstream) {
            case OPENAI -> OpenAiUpstream.request(chat, model);
            case ANTHROPIC -> AnthropicUpstream.request(chat, model);
            case GEMINI -> GeminiUpstream.request(chat, model);
            case OLLAMA -> OllamaUpstream.request(chat, model);
        };
    }

    /**
     * A decoder for the provider's streamed answer to {@link #request}; {@code model} goes into every chunk.
     * Lines are bounded to 1 MiB: a longer one ends the stream with {@code line_too_long}; an end without the
     * format's final event is {@code incomplete_stream}, an unparsable event {@code invalid_event}.
     */
    public static StreamDecoder streamDecoder(WireFormat upstream, String model, ChunkSink sink) {
        return switch (upstream) {
            case OPENAI -> new OpenAiUpstream.Decoder(model, sink);
            case ANTHROPIC -> new AnthropicUpstream.Decoder(model, sink);
            case GEMINI -> new GeminiUpstream.Decoder(model, sink);
            case OLLAMA -> new OllamaUpstream.Decoder(model, sink);
        };
    }

    /** The provider's whole (non-streamed) answer as an OpenAI {@code chat.completion}. */
    public static ObjectNode completion(WireFormat upstream, JsonNode body, String model) {
        return switch (upstream) {
            case OPENAI -> OpenAiUpstream.completion(body, model);
            case ANTHROPIC -> AnthropicUpstream.completion(body, model);
            case GEMINI -> GeminiUpstream.completion(body, model);
            case OLLAMA -> OllamaUpstream.completion(body, model);
        };
    }

    /** The usage in a {@code chat.completion} made by {@link #completion}, or null. */
    public static Usage usage(JsonNode completion) {
        return Completions.usage(completion);
    }

    /**
     * A provider's error answer (status >= 400) in one shape: the provider's own message and code (or type,
     * or status name); a body that is not the provider's error JSON gives "the provider answered HTTP n" and
     * a code derived from the status, never the body itself.
     *
     * @param body       the error body as received (may be empty, or not JSON)
     * @param retryAfter the response's Retry-After header, or null
     */
    public static ProviderError error(WireFormat upstream, int status, byte[] body, String retryAfter) {
        return switch (upstream) {
            case OPENAI -> OpenAiUpstream.error(status, body, retryAfter);
            case ANTHROPIC -> AnthropicUpstream.error(status, body, retryAfter);
            case GEMINI -> GeminiUpstream.error(status, body, retryAfter);
            case OLLAMA -> OllamaUpstream.error(status, body, retryAfter);
        };
    }
}
