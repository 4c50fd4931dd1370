package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.core.provider.RecordingSink.Split;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoders' edges: in-band errors, oversized lines, broken events, line endings, what comes after the end. */
class StreamDecoderTest {

    private static RecordingSink run(WireFormat format, String body) {
        RecordingSink sink = new RecordingSink();
        RecordingSink.replay(Translators.streamDecoder(format, "m", sink), body);
        return sink;
    }

    @Test
    void openAiInBandErrorFailsTheStream() {
        RecordingSink sink = run(WireFormat.OPENAI, """
                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

                data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","code":null}}

                """);
        ProviderError e = sink.assertError();
        assertEquals("The server had an error while processing your request.", e.message());
        assertEquals("server_error", e.code());
        assertEquals(502, e.status());
        assertEquals("Hi", sink.text.toString());
    }

    @Test
    void openAiChunksGetTheModelOnlyWhenMissing() {
        RecordingSink sink = run(WireFormat.OPENAI, """
                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"a"},"finish_reason":null}]}

                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

                data: [DONE]

                """);
        sink.assertDone();
        assertEquals("m", sink.chunks.get(0).path("model").asText());
        assertEquals("gpt-4o-2024-08-06", sink.chunks.get(1).path("model").asText());
        assertEquals(null, sink.usage, "no usage was reported");
    }

    @Test
    void anthropicErrorEventsKeepTheirTypeAndAStatusForRetries() {
        String start = """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":1}}}

                """;
        for (String[] c : List.of(new String[] {"overloaded_error", "529"}, new String[] {"rate_limit_error", "429"},
                new String[] {"api_error", "502"})) {
            RecordingSink sink = run(WireFormat.ANTHROPIC, start + "event: error\ndata: {\"type\": \"error\", \"error\": "
                    + "{\"type\": \"" + c[0] + "\", \"message\": \"Overloaded\"}}\n\n");
            ProviderError e = sink.assertError();
            assertEquals(c[0], e.code());
            assertEquals(Integer.parseInt(c[1]), e.status());
            assertEquals("Overloaded", e.message());
        }
    }

    @Test
    void anthropicSkipsThinkingAndCountsToolCallsApartFromBlocks() {
        RecordingSink sink = run(WireFormat.ANTHROPIC, """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":10,"output_tokens":1}}}

                event: content_block_start
                data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}

                event: content_block_stop
                data: {"type":"content_block_stop","index":0}

                event: content_block_start
                data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"a","input":{}}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}

                event: content_block_start
                data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"b","input":{}}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"x\\":1}"}}

                event: message_delta
                data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":11,"output_tokens":7}}

                event: message_stop
                data: {"type":"message_stop"}

                """);
        sink.assertDone();
        assertEquals("", sink.text.toString());
        assertEquals(List.of(new RecordingSink.ToolCall("toolu_a", "a", "{}"),
                new RecordingSink.ToolCall("toolu_b", "b", "{\"x\":1}")), sink.toolCalls());
        assertEquals(List.of(0, 1), List.copyOf(sink.tools.keySet()));
        assertEquals("tool_calls", sink.finishReason);
        sink.assertUsage(11, 7);
        assertEquals("chatcmpl-msg_2", sink.chunks.get(0).path("id").asText());
    }

    @Test
    void anthropicRefusalIsContentFilter() {
        RecordingSink sink = run(WireFormat.ANTHROPIC, """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_3","usage":{"input_tokens":1,"output_tokens":0}}}

                event: message_delta
                data: {"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":2}}

                event: message_stop
                data: {"type":"message_stop"}

                """);
        sink.assertDone();
        assertEquals("content_filter", sink.finishReason);
    }

    @Test
    void geminiErrorInTheStreamFails() {
        RecordingSink sink = run(WireFormat.GEMINI, """
                data: {"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}]}

                data: {"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}

                """);
        ProviderError e = sink.assertError();
        assertEquals("UNAVAILABLE", e.code());
        assertEquals(503, e.status());
        assertEquals("The model is overloaded. Please try again later.", e.message());
    }

    @Test
    void geminiSafetyAndBlockedPromptsAreContentFilter() {
        RecordingSink sink = run(WireFormat.GEMINI, """
                data: {"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"finishReason": "SAFETY","index": 0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}}

                """);
        sink.assertDone();
        assertEquals("content_filter", sink.finishReason);
        sink.assertUsage(4, 1);

        sink = run(WireFormat.GEMINI, """
                data: {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}

                """);
        sink.assertDone();
        assertEquals("content_filter", sink.finishReason);
    }

    @Test
    void geminiSkipsThoughtParts() {
        RecordingSink sink = run(WireFormat.GEMINI, """
                data: {"candidates": [{"content": {"parts": [{"text": "thinking...", "thought": true}, {"text": "Answer"}],"role": "model"},"finishReason": "STOP"}]}

                """);
        sink.assertDone();
        assertEquals("Answer", sink.text.toString());
        assertEquals("stop", sink.finishReason);
    }

    @Test
    void ollamaErrorLineFails() {
        RecordingSink sink = run(WireFormat.OLLAMA, """
                {"model":"llama3.2","created_at":"2023-08-04T08:52:19Z","message":{"role":"assistant","content":"The"},"done":false}
                {"error":"an error was encountered while running the model: unexpected EOF"}
                """);
        ProviderError e = sink.assertError();
        assertEquals("an error was encountered while running the model: unexpected EOF", e.message());
        assertEquals(502, e.status());
    }

    @Test
    void ollamaFinalLineWithoutNewlineCounts() {
        RecordingSink sink = run(WireFormat.OLLAMA,
                "{\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false}\n"
                        + "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}");
        sink.assertDone();
        assertEquals("x", sink.text.toString());
        assertEquals(null, sink.usage);
    }

    @Test
    void aLineOverOneMebibyteFailsWithoutWaitingForItsEnd() {
        for (WireFormat f : WireFormat.values()) {
            RecordingSink sink = new RecordingSink();
            StreamDecoder d = Translators.streamDecoder(f, "m", sink);
            byte[] piece = new byte[64 * 1024];
            java.util.Arrays.fill(piece, (byte) 'a');
            ByteBuf first = Unpooled.copiedBuffer("data: \"", StandardCharsets.UTF_8);
            d.feed(first);
            first.release();
            for (int i = 0; i < 17 && !sink.ended(); i++) {
                ByteBuf b = Unpooled.wrappedBuffer(piece);
                d.feed(b);
                b.release();
            }
            ProviderError e = sink.assertError();
            assertEquals("line_too_long", e.code(), f.name());
            assertTrue(e.message().contains("1048576"), e.message());
            ByteBuf more = Unpooled.copiedBuffer("\n\n", StandardCharsets.UTF_8);
            d.feed(more); // ignored: the stream is over
            more.release();
            d.end();
        }
    }

    @Test
    void anEventThatIsNotJsonFails() {
        ProviderError e = run(WireFormat.ANTHROPIC, "event: message_start\ndata: {not json\n\n").assertError();
        assertEquals("invalid_event", e.code());
        e = run(WireFormat.OLLAMA, "<html>502 Bad Gateway</html>\n").assertError();
        assertEquals("invalid_event", e.code());
    }

    @Test
    void sseLineEndingsCommentsAndMultiLineData() {
        // CR-only and CRLF line ends, a comment, and one event's JSON over two data lines (joined with \n).
        String body = ": keep-alive\r"
                + "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"a\"}]},\r\n"
                + "data:  \"index\": 0}]}\r\n\r\n"
                + "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"b\"}]}, \"finishReason\": \"STOP\"}]}\r\r";
        for (Split split : Split.values()) {
            RecordingSink sink = new RecordingSink();
            RecordingSink.replay(Translators.streamDecoder(WireFormat.GEMINI, "m", sink),
                    body.getBytes(StandardCharsets.UTF_8), split, 3);
            sink.assertDone();
            assertEquals("ab", sink.text.toString());
        }
    }

    @Test
    void nothingReachesTheSinkAfterDone() {
        RecordingSink sink = new RecordingSink();
        StreamDecoder d = Translators.streamDecoder(WireFormat.OPENAI, "m", sink);
        ByteBuf b = Unpooled.copiedBuffer("data: [DONE]\n\ndata: {\"error\":{\"message\":\"late\"}}\n\n",
                StandardCharsets.UTF_8);
        d.feed(b);
        b.release();
        d.end();
        d.end();
        sink.assertDone();
        assertEquals(0, sink.chunks.size());
    }
}
