package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.provider.RecordingSink.Split;
import io.sluice.core.provider.RecordingSink.ToolCall;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays the recorded corpus (provider-corpus/README.md names each stream's source) through the decoders:
 * whole, byte by byte (every multi-byte character and every CRLF split), and at seeded random points; the
 * reassembled answer must be the same every time.
 */
class ProviderCorpusTest {
    private static final String CJK = "你好，世界！🌍👋🏽 こんにちは 안녕 été";

    /** What a stream must come to. */
    record Expected(WireFormat format, String file, String text, List<ToolCall> tools, String finish,
                    long prompt, long completion) {
    }

    static List<Expected> corpus() {
        List<Expected> c = new ArrayList<>();
        c.add(new Expected(WireFormat.OPENAI, "openai/text.sse", "Hello! How can I assist you today?", List.of(),
                "stop", 19, 10));
        c.add(new Expected(WireFormat.OPENAI, "openai/tool.sse", "",
                List.of(new ToolCall("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", "{\"location\":\"Paris, France\"}")),
                "tool_calls", 64, 16));
        c.add(new Expected(WireFormat.OPENAI, "openai/multibyte.sse", CJK, List.of(), "length", 12, 20));
        c.add(new Expected(WireFormat.ANTHROPIC, "anthropic/text.sse", "Hello!", List.of(), "stop", 25, 15));
        c.add(new Expected(WireFormat.ANTHROPIC, "anthropic/tool.sse",
                "Okay, let's check the weather for San Francisco, CA:",
                List.of(new ToolCall("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather",
                        "{\"location\": \"San Francisco, CA\", \"unit\": \"fahrenheit\"}")),
                "tool_calls", 472, 89));
        // prompt = input 30 + cache read 12, as OpenAI counts cached prompt tokens
        c.add(new Expected(WireFormat.ANTHROPIC, "anthropic/multibyte.sse", CJK, List.of(), "length", 42, 20));
        c.add(new Expected(WireFormat.GEMINI, "gemini/text.sse", "The sky is blue because of Rayleigh scattering.\n",
                List.of(), "stop", 11, 9));
        c.add(new Expected(WireFormat.GEMINI, "gemini/tool.sse", "",
                List.of(new ToolCall(null, "get_current_weather", "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}")),
                "tool_calls", 70, 8));
        // completion = candidates 14 + thoughts 6
        c.add(new Expected(WireFormat.GEMINI, "gemini/multibyte.sse", CJK, List.of(), "length", 9, 20));
        c.add(new Expected(WireFormat.OLLAMA, "ollama/text.ndjson", "The sky is blue.", List.of(), "stop", 26, 282));
        c.add(new Expected(WireFormat.OLLAMA, "ollama/tool.ndjson", "",
                List.of(new ToolCall(null, "get_current_weather", "{\"format\":\"celsius\",\"location\":\"Paris, FR\"}")),
                "tool_calls", 122, 33));
        c.add(new Expected(WireFormat.OLLAMA, "ollama/multibyte.ndjson", CJK, List.of(), "length", 15, 20));
        return c;
    }

    static Stream<Arguments> replays() {
        List<Arguments> out = new ArrayList<>();
        for (Expected e : corpus()) {
            out.add(Arguments.of(e, Split.WHOLE, 0L));
            out.add(Arguments.of(e, Split.BYTE_BY_BYTE, 0L));
            for (long seed = 1; seed <= 20; seed++) {
                out.add(Arguments.of(e, Split.RANDOM, seed));
            }
        }
        return out.stream();
    }

    static byte[] load(String file) throws IOException {
        try (InputStream in = ProviderCorpusTest.class.getResourceAsStream("/provider-corpus/" + file)) {
            assertNotNull(in, file);
            return in.readAllBytes();
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("replays")
    void reassemblesTheSameAnswerHoweverTheBytesAreSplit(Expected e, Split split, long seed) throws IOException {
        RecordingSink sink = new RecordingSink();
        StreamDecoder decoder = Translators.streamDecoder(e.format(), "the-model", sink);
        RecordingSink.replay(decoder, load(e.file()), split, seed);
        sink.assertDone();
        assertEquals(e.text(), sink.text.toString());
        List<ToolCall> tools = sink.toolCalls();
        assertEquals(e.tools().size(), tools.size(), "tool calls: " + tools);
        for (int i = 0; i < tools.size(); i++) {
            ToolCall want = e.tools().get(i);
            ToolCall got = tools.get(i);
            if (want.id() != null) {
                assertEquals(want.id(), got.id());
            } else {
                assertTrue(got.id().startsWith("call_"), got.id());
            }
            assertEquals(want.name(), got.name());
            assertEquals(want.arguments(), got.arguments());
        }
        assertEquals(e.finish(), sink.finishReason);
        sink.assertUsage(e.prompt(), e.completion());
        assertEquals(new Usage(e.prompt(), e.completion()), decoder.usage());
        String id = sink.chunks.get(0).path("id").asText();
        sink.chunks.forEach(c -> assertEquals(id, c.path("id").asText(), "one id for the whole answer"));
        if (e.format() != WireFormat.OPENAI) {
            sink.chunks.forEach(c -> assertEquals("the-model", c.path("model").asText()));
        }
    }

    /** A stream cut anywhere before its final event is an error, never a silently short answer. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void aTruncatedStreamIsAnError(Expected e) throws IOException {
        byte[] body = load(e.file());
        String s = new String(body, StandardCharsets.UTF_8);
        int cut = switch (e.format()) {
            case OPENAI -> s.indexOf("data: [DONE]");
            case ANTHROPIC -> s.indexOf("event: message_stop");
            case GEMINI -> s.lastIndexOf("data: ");
            case OLLAMA -> s.lastIndexOf("{\"model\"");
        };
        byte[] cutBody = s.substring(0, cut).getBytes(StandardCharsets.UTF_8);
        for (Split split : Split.values()) {
            RecordingSink sink = new RecordingSink();
            RecordingSink.replay(Translators.streamDecoder(e.format(), "m", sink), cutBody, split, 7);
            ProviderError error = sink.assertError();
            assertEquals("incomplete_stream", error.code());
            assertEquals(502, error.status());
        }
    }
}
