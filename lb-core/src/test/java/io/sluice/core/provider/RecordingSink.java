package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * Collects what a decoder emits and reassembles it as a client would: text, tool calls by index, the finish
 * reason and the usage chunk; checks on the way that chunks are OpenAI-shaped and nothing follows the end.
 */
final class RecordingSink implements ChunkSink {
    record ToolCall(String id, String name, String arguments) {
    }

    final List<ObjectNode> chunks = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    final TreeMap<Integer, String[]> tools = new TreeMap<>();
    String finishReason;
    JsonNode usage;
    int doneCalls;
    ProviderError error;

    @Override
    public void chunk(ObjectNode chunk) {
        assertFalse(ended(), "a chunk after the end: " + chunk);
        assertEquals("chat.completion.chunk", chunk.path("object").asText(), chunk.toString());
        assertTrue(chunk.path("id").asText().startsWith("chatcmpl-"), chunk.toString());
        assertTrue(chunk.path("model").isTextual(), chunk.toString());
        chunks.add(chunk);
        if (chunk.hasNonNull("usage")) {
            assertNull(usage, "a second usage");
            assertEquals(0, chunk.path("choices").size(), "usage comes in a chunk without choices");
            usage = chunk.get("usage");
            return;
        }
        assertNull(usage, "a chunk after usage: " + chunk);
        JsonNode choice = chunk.path("choices").path(0);
        JsonNode delta = choice.path("delta");
        if (chunks.size() == 1) {
            assertEquals("assistant", delta.path("role").asText(), "the first delta carries the role");
        }
        if (delta.hasNonNull("content")) {
            text.append(delta.get("content").asText());
        }
        for (JsonNode call : delta.path("tool_calls")) {
            int index = call.path("index").asInt();
            String[] t = tools.get(index);
            if (t == null) {
                assertEquals("function", call.path("type").asText(), "a tool call starts with its type");
                t = new String[] {call.path("id").asText(), call.path("function").path("name").asText(), ""};
                assertFalse(t[0].isEmpty(), "a tool call starts with its id");
                tools.put(index, t);
            }
            t[2] += call.path("function").path("arguments").asText("");
        }
        if (choice.hasNonNull("finish_reason")) {
            assertNull(finishReason, "a second finish_reason");
            finishReason = choice.get("finish_reason").asText();
        }
    }

    @Override
    public void done() {
        assertFalse(ended(), "done after the end");
        doneCalls++;
    }

    @Override
    public void error(ProviderError e) {
        assertFalse(ended(), "an error after the end: " + e);
        error = e;
    }

    boolean ended() {
        return doneCalls > 0 || error != null;
    }

    List<ToolCall> toolCalls() {
        List<ToolCall> out = new ArrayList<>();
        tools.values().forEach(t -> out.add(new ToolCall(t[0], t[1], t[2])));
        return out;
    }

    void assertDone() {
        if (error != null) {
            fail("stream failed: " + error);
        }
        assertEquals(1, doneCalls);
    }

    ProviderError assertError() {
        assertEquals(0, doneCalls, "done instead of an error");
        assertNotNull(error, "the stream did not fail");
        return error;
    }

    void assertUsage(long prompt, long completion) {
        assertNotNull(usage, "no usage chunk");
        assertEquals(prompt, usage.path("prompt_tokens").asLong());
        assertEquals(completion, usage.path("completion_tokens").asLong());
        assertEquals(prompt + completion, usage.path("total_tokens").asLong());
    }

    /** How the body reaches the decoder. */
    enum Split { WHOLE, BYTE_BY_BYTE, RANDOM }

    /** Feeds {@code body} in pieces (each a buffer whose reader index is not 0) and ends it. */
    static void replay(StreamDecoder decoder, byte[] body, Split split, long seed) {
        Random random = new Random(seed);
        int i = 0;
        while (i < body.length) {
            int n = switch (split) {
                case WHOLE -> body.length;
                case BYTE_BY_BYTE -> 1;
                case RANDOM -> 1 + random.nextInt(Math.min(64, body.length - i));
            };
            n = Math.min(n, body.length - i);
            ByteBuf buf = Unpooled.buffer(n + 3);
            buf.writeBytes(new byte[] {'x', 'y', 'z'}).writeBytes(body, i, n).skipBytes(3);
            try {
                decoder.feed(buf);
                assertEquals(3, buf.readerIndex(), "the decoder moved the reader index");
                assertEquals(n, buf.readableBytes());
            } finally {
                buf.release();
            }
            i += n;
        }
        decoder.end();
    }

    static void replay(StreamDecoder decoder, String body) {
        replay(decoder, body.getBytes(StandardCharsets.UTF_8), Split.WHOLE, 0);
    }
}
