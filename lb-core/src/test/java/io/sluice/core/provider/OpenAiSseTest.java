package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Chunks out as OpenAI's SSE, usage as the client asked, and an error as the last event. */
class OpenAiSseTest {

    private static ObjectNode chunk(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static final String TEXT = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}";
    private static final String USAGE = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}";

    @Test
    void withUsage() {
        List<String> out = new ArrayList<>();
        ChunkSink sink = OpenAiSse.encoder(true, "openai", out::add);
        sink.chunk(chunk(TEXT));
        sink.chunk(chunk(USAGE));
        sink.done();
        sink.done();
        sink.chunk(chunk(TEXT));
        assertEquals(List.of("data: " + TEXT + "\n\n", "data: " + USAGE + "\n\n", "data: [DONE]\n\n"), out);
    }

    @Test
    void withoutUsageTheUsageChunkAndFieldsGo() {
        List<String> out = new ArrayList<>();
        ChunkSink sink = OpenAiSse.encoder(false, "openai", out::add);
        sink.chunk(chunk(TEXT.replace("]}", "],\"usage\":null}")));
        sink.chunk(chunk(USAGE));
        sink.done();
        assertEquals(List.of("data: " + TEXT + "\n\n", "data: [DONE]\n\n"), out);
    }

    @Test
    void anErrorIsTheLastEventAndNoDone() {
        List<String> out = new ArrayList<>();
        ChunkSink sink = OpenAiSse.encoder(true, "anthropic", out::add);
        sink.chunk(chunk(TEXT));
        sink.error(new ProviderError(529, "Overloaded \"now\"", "overloaded_error", null));
        sink.done();
        sink.chunk(chunk(TEXT));
        sink.error(new ProviderError(502, "again", "x", null));
        assertEquals(List.of("data: " + TEXT + "\n\n",
                "data: {\"error\":{\"message\":\"Overloaded \\\"now\\\"\",\"code\":\"overloaded_error\","
                        + "\"provider\":\"anthropic\"}}\n\n"), out);
    }

    @Test
    void errorJson() {
        assertEquals("{\"error\":{\"message\":\"m\",\"code\":null,\"provider\":\"ollama\"}}",
                OpenAiSse.errorJson(new ProviderError(500, "m", null, null), "ollama"));
    }

    /** A provider's stream through a decoder and the encoder: what a client of Sluice reads. */
    @Test
    void anthropicStreamAsOpenAiSse() {
        StringBuilder out = new StringBuilder();
        StreamDecoder d = Translators.streamDecoder(WireFormat.ANTHROPIC, "claude",
                OpenAiSse.encoder(false, "anthropic", out::append));
        RecordingSink.replay(d, """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3,"output_tokens":1}}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

                event: message_delta
                data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}

                event: message_stop
                data: {"type":"message_stop"}

                """);
        String[] events = out.toString().split("\n\n");
        assertEquals(4, events.length, out.toString());
        assertEquals("data: [DONE]", events[3]);
        assertEquals(new Usage(3, 2), d.usage());
        ObjectNode finish = chunk(events[2].substring(6));
        assertEquals("stop", finish.path("choices").path(0).path("finish_reason").asText());
    }
}
