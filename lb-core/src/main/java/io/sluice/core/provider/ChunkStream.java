package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.sluice.core.http.Json;
import java.io.IOException;

/**
 * The common part of every decoder: reads the body line by line and builds OpenAI
 * {@code chat.completion.chunk}s (OpenAI's streaming reference: the first delta carries {@code role},
 * tool calls start with {@code id}, {@code type} and {@code function.name}, then carry argument pieces; usage
 * comes last in a chunk with empty {@code choices}). Once the stream ended (done or error) nothing else
 * reaches the sink.
 */
abstract class ChunkStream implements StreamDecoder, LineSplitter.Handler {
    final ChunkSink sink;
    final String model;
    final long created = System.currentTimeMillis() / 1000;
    String id = Ids.completion();
    private final LineSplitter lines = new LineSplitter(this);
    private boolean started;
    private boolean finishSent;
    boolean toolCallSeen;
    private boolean ended;
    Usage usage;

    ChunkStream(String model, ChunkSink sink) {
        this.model = model;
        this.sink = sink;
    }

    @Override
    public final void feed(ByteBuf bytes) {
        if (!ended) {
            lines.feed(bytes);
        }
    }

    @Override
    public final void end() {
        if (ended) {
            return;
        }
        lines.end();
        if (!ended) {
            endOfLines();
        }
        if (!ended) {
            bodyEnded();
        }
    }

    @Override
    public final Usage usage() {
        return usage;
    }

    @Override
    public final boolean stopped() {
        return ended;
    }

    @Override
    public final void tooLong(int limit) {
        fail(new ProviderError(502, "a line of the provider's stream is longer than " + limit + " bytes",
                "line_too_long", null));
    }

    /** Lines are over; SSE dispatches an event it still holds. */
    void endOfLines() {
    }

    /** The body ended before the stream's final event (unless the format has none). */
    void bodyEnded() {
        fail(new ProviderError(502, "the provider's stream ended before its final event", "incomplete_stream", null));
    }

    /** Parses one event's JSON; a broken one ends the stream with an error (and returns null). */
    final JsonNode parse(String json) {
        try {
            JsonNode node = Json.MAPPER.readTree(json);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (IOException e) {
            // reported below
        }
        fail(new ProviderError(502, "the provider sent an event that is not a JSON object", "invalid_event", null));
        return null;
    }

    final boolean ended() {
        return ended;
    }

    final boolean started() {
        return started;
    }

    /** A chunk with one choice: {@code delta} (role added to the first) and the finish reason or null. */
    final void emit(ObjectNode delta, String finishReason) {
        if (!started) {
            started = true;
            ObjectNode first = Json.MAPPER.createObjectNode().put("role", "assistant");
            first.setAll(delta);
            delta = first;
        }
        ObjectNode chunk = head();
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        sink.chunk(chunk);
    }

    final void content(String text) {
        if (text != null && !text.isEmpty()) {
            emit(Json.MAPPER.createObjectNode().put("content", text), null);
        }
    }

    /** A tool call's first chunk; {@code arguments} is "" when they follow in pieces, or all of them. */
    final void toolStart(int index, String callId, String name, String arguments) {
        toolCallSeen = true;
        ObjectNode delta = Json.MAPPER.createObjectNode();
        ObjectNode call = delta.putArray("tool_calls").addObject();
        call.put("index", index);
        call.put("id", callId);
        call.put("type", "function");
        call.putObject("function").put("name", name).put("arguments", arguments);
        emit(delta, null);
    }

    final void toolArguments(int index, String piece) {
        if (piece == null || piece.isEmpty()) {
            return;
        }
        ObjectNode delta = Json.MAPPER.createObjectNode();
        ObjectNode call = delta.putArray("tool_calls").addObject();
        call.put("index", index);
        call.putObject("function").put("arguments", piece);
        emit(delta, null);
    }

    /** The chunk with the finish reason (once). */
    final void finish(String reason) {
        if (!finishSent) {
            finishSent = true;
            emit(Json.MAPPER.createObjectNode(), reason);
        }
    }

    final boolean finishSent() {
        return finishSent;
    }

    /** The usage chunk when the provider reported usage, then done. */
    final void complete() {
        complete(true);
    }

    /** Done; {@code usageChunk} false when the provider's own usage chunk already passed on. */
    final void complete(boolean usageChunk) {
        if (usageChunk && usage != null) {
            ObjectNode chunk = head();
            chunk.putArray("choices");
            chunk.set("usage", usageJson(usage));
            sink.chunk(chunk);
        }
        ended = true;
        sink.done();
    }

    final void fail(ProviderError error) {
        if (!ended) {
            ended = true;
            sink.error(error);
        }
    }

    private ObjectNode head() {
        ObjectNode chunk = Json.MAPPER.createObjectNode();
        chunk.put("id", id);
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", created);
        chunk.put("model", model);
        return chunk;
    }

    static ObjectNode usageJson(Usage u) {
        return Json.MAPPER.createObjectNode()
                .put("prompt_tokens", u.promptTokens())
                .put("completion_tokens", u.completionTokens())
                .put("total_tokens", u.total());
    }
}
