package io.sluice.core.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Receives a response as OpenAI {@code chat.completion.chunk} objects, the pivot between a provider's
 * stream and the client's: a {@link StreamDecoder} produces them, an encoder turns them into the
 * client's format. Exactly one of {@link #done} and {@link #error} ends the stream.
 */
public interface ChunkSink {

    /** One {@code chat.completion.chunk}; owned by the sink from here on. */
    void chunk(ObjectNode chunk);

    /** The stream ended normally. */
    void done();

    /** The stream failed part-way (an in-band error event, or an end without the final event). */
    void error(ProviderError error);
}
