package io.sluice.core.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Writes chunks as OpenAI's SSE: {@code data: {chunk}\n\n} ... {@code data: [DONE]\n\n} (OpenAI API
 * reference, "Streaming"; the usage chunk with empty {@code choices} only when the client set
 * {@code stream_options.include_usage}). An error ends the stream with {@code data: {"error":...}} and no
 * {@code [DONE]}, so a client cannot take a failed answer for a whole one.
 */
public final class OpenAiSse {
    private OpenAiSse() {
    }

    /**
     * @param includeUsage whether the client asked for usage ({@code stream_options.include_usage}); if not,
     *                     the usage-only chunk Sluice asked the upstream for is not sent
     * @param out          receives SSE text, one or more whole events per call
     */
    public static ChunkSink encoder(boolean includeUsage, String provider, Consumer<String> out) {
        return new ChunkSink() {
            private boolean ended;

            @Override
            public void chunk(ObjectNode chunk) {
                if (ended) {
                    return;
                }
                if (!includeUsage && chunk.has("usage")) {
                    JsonNode choices = chunk.get("choices");
                    if (choices == null || choices.isEmpty()) {
                        return;
                    }
                    chunk.remove("usage");
                }
                out.accept("data: " + write(chunk) + "\n\n");
            }

            @Override
            public void done() {
                if (!ended) {
                    ended = true;
                    out.accept("data: [DONE]\n\n");
                }
            }

            @Override
            public void error(ProviderError error) {
                if (!ended) {
                    ended = true;
                    out.accept("data: " + errorJson(error, provider) + "\n\n");
                }
            }
        };
    }

    /** The normalised error body {@code {"error":{"message","code","provider"}}}. */
    public static String errorJson(ProviderError e, String provider) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.message());
        error.put("code", e.code());
        error.put("provider", provider);
        return write(root);
    }

    private static String write(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
