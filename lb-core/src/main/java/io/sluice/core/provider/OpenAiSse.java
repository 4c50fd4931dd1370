package io.sluice.core.provider;

import java.util.function.Consumer;

/** Writes chunks as OpenAI's SSE: {@code data: {chunk}\n\n} ... {@code data: [DONE]\n\n}. */
public final class OpenAiSse {
    private OpenAiSse() {
    }

    /**
     * @param includeUsage whether the client asked for usage ({@code stream_options.include_usage}); if not,
     *                     the usage-only chunk Sluice asked the upstream for is not sent
     * @param out          receives SSE text, one or more whole events per call
     */
    public static ChunkSink encoder(boolean includeUsage, String provider, Consumer<String> out) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The normalised error body {@code {"error":{"message","code","provider"}}}. */
    public static String errorJson(ProviderError e, String provider) {
        throw new UnsupportedOperationException("TODO");
    }
}
