package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The encoder fed with OpenAI chunk sequences as OpenAI streams them, its SSE parsed back and compared, event by
 * event, with Anthropic's published streaming examples (test resources {@code provider-corpus/anthropic-client/}),
 * and replayed through an accumulator that checks the reference's event flow and builds the final message.
 */
class AnthropicMessagesEncoderTest {
    private static final String CORPUS = "/provider-corpus/anthropic-client/";

    record Event(String name, JsonNode data) {
    }

    /** Everything written, and each write on its own (every write must hold whole events). */
    private final List<String> writes = new ArrayList<>();
    private final ChunkSink sink = AnthropicMessages.encoder("claude-via-sluice", writes::add);

    private static ObjectNode chunk(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String textChunk(String text) {
        return "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":" + Json.quote(text) + "},\"finish_reason\":null}]}";
    }

    private static final String ROLE_CHUNK = "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1,\"model\":\"llama\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
            + "\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}";

    private static String finishChunk(String reason) {
        return "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama\","
                + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}]}";
    }

    private static String usageChunk(long prompt, long completion) {
        return "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama\","
                + "\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion
                + ",\"total_tokens\":" + (prompt + completion) + "}}";
    }

    private static String toolStart(int index, String id, String name) {
        return "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"model\":\"llama\",\"choices\":[{"
                + "\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":" + index + ",\"id\":\"" + id + "\",\"type\":"
                + "\"function\",\"function\":{\"name\":\"" + name + "\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}";
    }

    private static String toolArgs(int index, String fragment) {
        return "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion.chunk\",\"model\":\"llama\",\"choices\":[{"
                + "\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":" + index + ",\"function\":{\"arguments\":"
                + Json.quote(fragment) + "}}]},\"finish_reason\":null}]}";
    }

    private void feed(String... chunks) {
        for (String c : chunks) {
            sink.chunk(chunk(c));
        }
    }

    static List<Event> parse(String sse) throws Exception {
        assertTrue(sse.isEmpty() || sse.endsWith("\n\n"), "whole events only: " + sse);
        List<Event> events = new ArrayList<>();
        for (String block : sse.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            String[] lines = block.split("\n");
            assertEquals(2, lines.length, block);
            assertTrue(lines[0].startsWith("event: "), block);
            assertTrue(lines[1].startsWith("data: "), block);
            String name = lines[0].substring(7);
            JsonNode data = Json.MAPPER.readTree(lines[1].substring(6));
            assertEquals(name, data.path("type").asText(), "the event name is the data's type");
            events.add(new Event(name, data));
        }
        return events;
    }

    private List<Event> written() throws Exception {
        for (String w : writes) {
            parse(w); // each write on its own is whole events
        }
        return parse(String.join("", writes));
    }

    private static List<Event> reference(String file) throws Exception {
        try (InputStream in = AnthropicMessagesEncoderTest.class.getResourceAsStream(CORPUS + file)) {
            assertNotNull(in, file);
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).stream()
                    .filter(e -> !e.name().equals("ping")) // "any number of ping events": Sluice sends none
                    .toList();
        }
    }

    /** A JSON value's shape: the same objects and keys, the {@code type} values, and the kind of every other leaf. */
    private static JsonNode shape(JsonNode n) {
        if (n.isObject()) {
            ObjectNode o = Json.MAPPER.createObjectNode();
            n.fields().forEachRemaining(f -> o.set(f.getKey(),
                    f.getKey().equals("type") ? f.getValue() : shape(f.getValue())));
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = Json.MAPPER.createArrayNode();
            n.forEach(e -> a.add(shape(e)));
            return a;
        }
        return Json.MAPPER.getNodeFactory().textNode(n.getNodeType().name());
    }

    /**
     * Replays events as Anthropic's SDKs accumulate them, checking the reference's event flow: message_start first;
     * each block started (at the next index), then its deltas, then stopped; message_delta; message_stop last.
     */
    static ObjectNode accumulate(List<Event> events) {
        assertFalse(events.isEmpty());
        assertEquals("message_start", events.get(0).name());
        ObjectNode message = events.get(0).data().get("message").deepCopy();
        assertEquals(0, message.get("content").size());
        ArrayNode content = (ArrayNode) message.get("content");
        List<StringBuilder> json = new ArrayList<>();
        int openIndex = -1;
        boolean delta = false;
        for (int i = 1; i < events.size(); i++) {
            Event e = events.get(i);
            JsonNode d = e.data();
            switch (e.name()) {
                case "content_block_start" -> {
                    assertEquals(-1, openIndex, "a block starts after the previous one stopped");
                    assertFalse(delta, "no block after message_delta");
                    assertEquals(content.size(), d.get("index").asInt());
                    openIndex = d.get("index").asInt();
                    content.add(d.get("content_block").deepCopy());
                    json.add(new StringBuilder());
                }
                case "content_block_delta" -> {
                    int index = d.get("index").asInt();
                    assertEquals(openIndex, index, "deltas go to the open block");
                    ObjectNode block = (ObjectNode) content.get(index);
                    JsonNode dd = d.get("delta");
                    switch (dd.get("type").asText()) {
                        case "text_delta" -> {
                            assertEquals("text", block.get("type").asText());
                            block.put("text", block.get("text").asText() + dd.get("text").asText());
                        }
                        case "input_json_delta" -> {
                            assertEquals("tool_use", block.get("type").asText());
                            json.get(index).append(dd.get("partial_json").asText());
                        }
                        default -> fail("unexpected delta " + dd);
                    }
                }
                case "content_block_stop" -> {
                    assertEquals(openIndex, d.get("index").asInt());
                    ObjectNode block = (ObjectNode) content.get(openIndex);
                    if (block.get("type").asText().equals("tool_use")) {
                        try {
                            block.set("input", Json.MAPPER.readTree(json.get(openIndex).toString()));
                        } catch (Exception ex) {
                            throw new AssertionError("tool input is not JSON: " + json.get(openIndex), ex);
                        }
                    }
                    openIndex = -1;
                }
                case "message_delta" -> {
                    assertEquals(-1, openIndex, "blocks are stopped before message_delta");
                    delta = true;
                    d.get("delta").fields().forEachRemaining(f -> message.set(f.getKey(), f.getValue()));
                    d.get("usage").fields().forEachRemaining(f -> ((ObjectNode) message.get("usage"))
                            .set(f.getKey(), f.getValue()));
                }
                case "message_stop" -> {
                    assertTrue(delta, "message_delta comes before message_stop");
                    assertEquals(events.size() - 1, i, "message_stop is last");
                }
                default -> fail("unexpected event " + e);
            }
        }
        assertEquals("message_stop", events.get(events.size() - 1).name());
        return message;
    }

    @Test
    void textStreamHasTheShapeOfTheBasicExample() throws Exception {
        feed(ROLE_CHUNK, textChunk("Hello"), textChunk("!"), finishChunk("stop"), usageChunk(25, 15));
        sink.done();
        List<Event> ours = written();
        List<Event> ref = reference("streaming-basic.sse");
        assertEquals(ref.stream().map(Event::name).toList(), ours.stream().map(Event::name).toList());
        for (int i = 0; i < ref.size(); i++) {
            JsonNode r = ref.get(i).data();
            JsonNode o = ours.get(i).data();
            if (ref.get(i).name().equals("message_delta")) {
                // the input tokens, known only at the end here, come with the (cumulative) usage of message_delta
                assertEquals(Json.MAPPER.readTree("{\"input_tokens\":25,\"output_tokens\":15}"), o.get("usage"));
                assertEquals(r.get("delta"), o.get("delta"));
            } else if (ref.get(i).name().equals("message_start")) {
                assertEquals(shape(r), shape(o), "message_start");
            } else {
                assertEquals(r, o, "event " + i); // the very same events
            }
        }
        JsonNode start = ours.get(0).data().get("message");
        assertEquals("msg_abc123", start.get("id").asText());
        assertEquals("claude-via-sluice", start.get("model").asText());
        assertEquals(Json.MAPPER.readTree("{\"input_tokens\":0,\"output_tokens\":0}"), start.get("usage"));
        ObjectNode message = accumulate(ours);
        assertEquals("Hello!", message.at("/content/0/text").asText());
        assertEquals("end_turn", message.get("stop_reason").asText());
    }

    @Test
    void textThenToolCallIsTheToolUseExampleEventByEvent() throws Exception {
        List<Event> ref = reference("streaming-tool-use.sse");
        sink.chunk(chunk(ROLE_CHUNK));
        for (Event e : ref) {
            JsonNode d = e.data();
            if (e.name().equals("content_block_delta") && d.at("/delta/type").asText().equals("text_delta")) {
                feed(textChunk(d.at("/delta/text").asText()));
            } else if (e.name().equals("content_block_start") && d.at("/content_block/type").asText().equals("tool_use")) {
                feed(toolStart(0, d.at("/content_block/id").asText(), d.at("/content_block/name").asText()));
            } else if (e.name().equals("content_block_delta")) {
                String partial = d.at("/delta/partial_json").asText();
                if (!partial.isEmpty()) {
                    feed(toolArgs(0, partial));
                }
            }
        }
        feed(finishChunk("tool_calls"));
        int beforeUsage = writes.size();
        feed(usageChunk(472, 89));
        assertTrue(writes.size() > beforeUsage, "the usage chunk ends the message");
        sink.done(); // after the end: ignored
        List<Event> ours = written();
        assertEquals(ref.stream().map(Event::name).toList(), ours.stream().map(Event::name).toList());
        for (int i = 1; i < ref.size(); i++) {
            if (ref.get(i).name().equals("message_delta")) {
                assertEquals(ref.get(i).data().get("delta"), ours.get(i).data().get("delta"));
                assertEquals(89, ours.get(i).data().at("/usage/output_tokens").asLong());
                assertEquals(472, ours.get(i).data().at("/usage/input_tokens").asLong());
            } else {
                assertEquals(ref.get(i).data(), ours.get(i).data(), "event " + i);
            }
        }
        assertEquals(shape(ref.get(0).data()), shape(ours.get(0).data()));
        ObjectNode message = accumulate(ours);
        assertEquals("Okay, let's check the weather for San Francisco, CA:", message.at("/content/0/text").asText());
        assertEquals(Json.MAPPER.readTree("{\"location\": \"San Francisco, CA\"}"), message.at("/content/1/input"));
        assertEquals("tool_use", message.get("stop_reason").asText());
    }

    @Test
    void textThenTwoParallelToolCallsWithStreamedArguments() throws Exception {
        feed(ROLE_CHUNK, textChunk("Let me look "), textChunk("both up."),
                toolStart(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather"),
                toolArgs(0, "{\"lo"), toolArgs(0, "cation\": \"Par"), toolArgs(0, "is\"}"),
                toolStart(1, "call_ABxPZ7KQ7s1nL1u2r7hb0ZBm", "get_time"),
                toolArgs(1, "{\"tz\""), toolArgs(1, ": \"Europe/Paris\"}"),
                finishChunk("tool_calls"));
        List<Event> beforeUsage = written();
        assertFalse(beforeUsage.stream().anyMatch(e -> e.name().equals("message_delta")),
                "message_delta waits for the usage that follows finish_reason");
        assertEquals("content_block_stop", beforeUsage.get(beforeUsage.size() - 1).name());
        feed(usageChunk(120, 48));
        feed(textChunk("late"));
        sink.done();
        List<Event> ours = written();
        List<Event> ref = reference("streaming-tool-use.sse");
        // every event has the shape of its kind in the published example
        for (Event e : ours) {
            Event like = ref.stream().filter(r -> r.name().equals(e.name())
                    && r.data().at("/delta/type").equals(e.data().at("/delta/type"))
                    && r.data().at("/content_block/type").equals(e.data().at("/content_block/type")))
                    .findFirst().orElseThrow(() -> new AssertionError("no such event in the example: " + e));
            if (!e.name().equals("message_delta")) {
                assertEquals(shape(like.data()), shape(e.data()), e.toString());
            }
        }
        ObjectNode message = accumulate(ours);
        assertEquals(Json.MAPPER.readTree("""
                [{"type":"text","text":"Let me look both up."},
                 {"type":"tool_use","id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","name":"get_weather","input":{"location":"Paris"}},
                 {"type":"tool_use","id":"call_ABxPZ7KQ7s1nL1u2r7hb0ZBm","name":"get_time","input":{"tz":"Europe/Paris"}}]"""),
                message.get("content"));
        assertEquals("tool_use", message.get("stop_reason").asText());
        assertEquals(Json.MAPPER.readTree("{\"input_tokens\":120,\"output_tokens\":48}"), message.get("usage"));
    }

    @Test
    void multibyteTextSurvivesAsIs() throws Exception {
        String[] parts = {"Grüße ", "— 日本語", "で", " 🎉🎉", " ok"};
        sink.chunk(chunk(ROLE_CHUNK));
        for (String p : parts) {
            feed(textChunk(p));
        }
        feed(finishChunk("length"));
        sink.done();
        String sse = String.join("", writes);
        assertTrue(sse.contains("日本語") && sse.contains("🎉"), "written as characters, not escapes");
        byte[] utf8 = sse.getBytes(StandardCharsets.UTF_8);
        List<Event> ours = parse(new String(utf8, StandardCharsets.UTF_8));
        ObjectNode message = accumulate(ours);
        assertEquals(String.join("", parts), message.at("/content/0/text").asText());
        assertEquals("max_tokens", message.get("stop_reason").asText());
        assertEquals(0, message.at("/usage/output_tokens").asLong(), "no usage reported: 0");
    }

    @Test
    void usageInTheFinishChunkEndsAtOnce() throws Exception {
        feed(ROLE_CHUNK, textChunk("x"));
        ObjectNode last = chunk(finishChunk("stop"));
        last.set("usage", chunk("{\"prompt_tokens\":3,\"completion_tokens\":1}"));
        sink.chunk(last);
        List<Event> ours = written();
        assertEquals("message_stop", ours.get(ours.size() - 1).name());
        assertEquals(1, accumulate(ours).at("/usage/output_tokens").asLong());
    }

    @Test
    void usageKnownAtTheStartIsInMessageStart() throws Exception {
        ObjectNode first = chunk(ROLE_CHUNK);
        first.set("usage", chunk("{\"prompt_tokens\":31,\"completion_tokens\":0}"));
        sink.chunk(first);
        feed(textChunk("y"), finishChunk("stop"), usageChunk(31, 2));
        List<Event> ours = written();
        assertEquals(31, ours.get(0).data().at("/message/usage/input_tokens").asLong());
        JsonNode usage = ours.get(ours.size() - 2).data().get("usage");
        assertEquals(Json.MAPPER.readTree("{\"output_tokens\":2}"), usage);
    }

    @Test
    void emptyStreamIsStillAWholeMessage() throws Exception {
        sink.done();
        List<Event> ours = written();
        assertEquals(List.of("message_start", "message_delta", "message_stop"), ours.stream().map(Event::name).toList());
        assertEquals(0, accumulate(ours).get("content").size());
    }

    @Test
    void errorMidStreamIsTheLastEvent() throws Exception {
        feed(ROLE_CHUNK, textChunk("Hel"));
        sink.error(new ProviderError(529, "Overloaded", "overloaded_error", null));
        feed(textChunk("lo"), finishChunk("stop"), usageChunk(1, 1));
        sink.done();
        sink.error(new ProviderError(500, "again", null, null));
        List<Event> ours = written();
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "error"),
                ours.stream().map(Event::name).toList());
        assertEquals(reference("streaming-error.sse").get(0).data(), ours.get(3).data());
    }

    @Test
    void errorBeforeAnythingIsJustTheErrorEvent() throws Exception {
        sink.error(new ProviderError(502, "upstream closed the stream early", null, null));
        List<Event> ours = written();
        assertEquals(1, ours.size());
        assertEquals(Json.MAPPER.readTree("""
                {"type":"error","error":{"type":"api_error","message":"upstream closed the stream early"}}"""),
                ours.get(0).data());
    }
}
