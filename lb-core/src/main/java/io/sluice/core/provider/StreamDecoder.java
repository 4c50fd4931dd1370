package io.sluice.core.provider;

import io.netty.buffer.ByteBuf;

/**
 * Reads one provider's streamed response body incrementally (SSE, or NDJSON for Ollama) and emits
 * OpenAI chunks into a {@link ChunkSink} as soon as each event is complete: no buffering beyond the
 * current unfinished line. Bytes may split anywhere, also inside a UTF-8 sequence.
 */
public interface StreamDecoder {

    /** The next bytes of the body; read, not retained or released. */
    void feed(ByteBuf bytes);

    /** The body ended. A stream that ended without its final event is reported to {@link ChunkSink#error}. */
    void end();

    /** The usage the provider reported so far, or null. */
    Usage usage();
}
