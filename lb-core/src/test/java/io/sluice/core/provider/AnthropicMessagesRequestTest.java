package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Anthropic Messages requests (the "Create a Message" reference's shapes) as OpenAI chat requests. */
class AnthropicMessagesRequestTest {

    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    private static void assertJson(String expected, JsonNode actual) throws Exception {
        assertEquals(json(expected), actual, () -> "got " + actual);
    }

    private static TranslationException rejected(String request) throws Exception {
        JsonNode req = json(request);
        return assertThrows(TranslationException.class, () -> AnthropicMessages.toChat(req));
    }

    @Test
    void systemStringAndSamplingAndStream() throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are terse.",
                 "messages":[{"role":"user","content":"Hello, Claude"}],
                 "temperature":0.5,"top_p":0.9,"stop_sequences":["END","\\n\\nHuman:"],"stream":true,
                 "metadata":{"user_id":"u-42"}}"""));
        assertJson("""
                {"model":"claude-sonnet-4-5",
                 "messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hello, Claude"}],
                 "max_tokens":1024,"temperature":0.5,"top_p":0.9,"stop":["END","\\n\\nHuman:"],
                 "stream":true,"stream_options":{"include_usage":true},"user":"u-42"}""", chat);
    }

    @Test
    void systemBlocksAreJoinedAndCacheControlIgnored() throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"m","max_tokens":10,"stream":false,
                 "system":[{"type":"text","text":"Be kind."},
                           {"type":"text","text":"Long context…","cache_control":{"type":"ephemeral"}}],
                 "messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}}]}]}"""));
        assertJson("""
                {"model":"m","messages":[{"role":"system","content":"Be kind.\\nLong context…"},
                 {"role":"user","content":"Hi"}],"max_tokens":10,"stream":false}""", chat);
    }

    @Test
    void multiPartUserContentWithBase64AndUrlImages() throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[
                  {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                  {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
                  {"type":"text","text":"What is in these images?"}]}]}"""));
        assertJson("""
                [{"role":"user","content":[
                  {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
                  {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
                  {"type":"text","text":"What is in these images?"}]}]""", chat.get("messages"));
    }

    @Test
    void toolUseAndToolResultRoundTrip() throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"m","max_tokens":100,
                 "tools":[{"name":"get_weather","description":"Get the current weather in a given location",
                   "input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}},
                   {"name":"get_time","input_schema":{"type":"object","properties":{}},"cache_control":{"type":"ephemeral"}}],
                 "messages":[
                  {"role":"user","content":"Weather and time in San Francisco?"},
                  {"role":"assistant","content":[
                    {"type":"text","text":"I'll check both."},
                    {"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"location":"San Francisco, CA"}},
                    {"type":"tool_use","id":"toolu_01B","name":"get_time","input":{}}]},
                  {"role":"user","content":[
                    {"type":"tool_result","tool_use_id":"toolu_01A","content":"15 degrees"},
                    {"type":"tool_result","tool_use_id":"toolu_01B","is_error":true,
                     "content":[{"type":"text","text":"clock"},{"type":"text","text":"unavailable"}]},
                    {"type":"text","text":"Summarise, please."}]}]}"""));
        assertJson("""
                [{"role":"user","content":"Weather and time in San Francisco?"},
                 {"role":"assistant","content":"I'll check both.","tool_calls":[
                   {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\\"location\\":\\"San Francisco, CA\\"}"}},
                   {"id":"toolu_01B","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
                 {"role":"tool","tool_call_id":"toolu_01A","content":"15 degrees"},
                 {"role":"tool","tool_call_id":"toolu_01B","content":"clock\\nunavailable"},
                 {"role":"user","content":"Summarise, please."}]""", chat.get("messages"));
        assertJson("""
                [{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location",
                   "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}},
                 {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]""",
                chat.get("tools"));
    }

    @Test
    void assistantWithOnlyToolUseHasNullContent() throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"},
                 {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,2]}}]},
                 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}]}"""));
        JsonNode assistant = chat.get("messages").get(1);
        assertTrue(assistant.get("content").isNull());
        assertEquals("{\"a\":[1,2]}", assistant.at("/tool_calls/0/function/arguments").asText());
        assertJson("{\"role\":\"tool\",\"tool_call_id\":\"t1\",\"content\":\"\"}", chat.get("messages").get(2));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"type\":\"auto\"}                                   | \"auto\"     | ",
            "{\"type\":\"any\"}                                    | \"required\" | ",
            "{\"type\":\"none\"}                                   | \"none\"     | ",
            "{\"type\":\"tool\",\"name\":\"get_weather\"}          | {\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}} | ",
            "{\"type\":\"any\",\"disable_parallel_tool_use\":true} | \"required\" | false",
            "{\"type\":\"auto\",\"disable_parallel_tool_use\":false} | \"auto\"   | ",
    })
    void toolChoice(String anthropic, String openAi, Boolean parallel) throws Exception {
        ObjectNode chat = AnthropicMessages.toChat(json("""
                {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],
                 "tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":%s}""".formatted(anthropic)));
        assertJson(openAi, chat.get("tool_choice"));
        if (parallel == null) {
            assertFalse(chat.has("parallel_tool_calls"));
        } else {
            assertEquals(parallel, chat.get("parallel_tool_calls").booleanValue());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // what Anthropic itself requires
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}                                   | max_tokens",
            "{\"model\":\"m\",\"max_tokens\":10}                                                                       | messages",
            "{\"model\":\"m\",\"max_tokens\":\"10\",\"messages\":[]}                                                     | max_tokens",
            // parameters the pivot cannot express
            "{\"model\":\"m\",\"max_tokens\":10,\"top_k\":5,\"messages\":[]}                                           | top_k",
            "{\"model\":\"m\",\"max_tokens\":10,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[]} | thinking",
            "{\"model\":\"m\",\"max_tokens\":10,\"mcp_servers\":[],\"messages\":[]}                                      | mcp_servers",
            // roles and blocks
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}                                  | messages[0].role",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{}}]}]}    | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"search_result\"}]}]}            | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"hologram\"}]}]}                 | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\",\"signature\":\"s\"}]}]} | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"redacted_thinking\",\"data\":\"d\"}]}]} | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"server_tool_use\",\"id\":\"s\",\"name\":\"web_search\",\"input\":{}}]}]} | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}]}]} | messages[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"file\",\"file_id\":\"f\"}}]}]} | messages[0].content[0].source",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"u\"}}]}]}]} | messages[0].content[0].content[0]",
            "{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"tool_result\",\"tool_use_id\":\"t\"}]}]} | messages[0].content[1]",
            "{\"max_tokens\":10,\"system\":[{\"type\":\"image\",\"source\":{}}],\"messages\":[]}                            | system[0]",
            // tools
            "{\"max_tokens\":10,\"messages\":[],\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}]}     | tools[0].type",
            "{\"max_tokens\":10,\"messages\":[],\"tools\":[{\"name\":\"f\"}]}                                             | tools[0].input_schema",
            "{\"max_tokens\":10,\"messages\":[],\"tool_choice\":{\"type\":\"tool\"}}                                      | tool_choice.name",
            "{\"max_tokens\":10,\"messages\":[],\"tool_choice\":{\"type\":\"sometimes\"}}                                 | tool_choice.type",
    })
    void rejectsWhatCannotBeExpressed(String request, String param) throws Exception {
        TranslationException e = rejected(request);
        assertEquals(param, e.param(), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void rejectionsSayWhy() throws Exception {
        assertTrue(rejected("{\"max_tokens\":10,\"top_k\":3,\"messages\":[]}").getMessage().contains("top_k"));
        assertTrue(rejected("{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"hologram\"}]}]}")
                .getMessage().contains("unknown content block type 'hologram'"));
        assertTrue(rejected("{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                + "{\"type\":\"tool_result\",\"tool_use_id\":\"t\"}]}]}").getMessage().contains("must come first"));
    }

    @Test
    void requestIsNotModified() throws Exception {
        JsonNode req = json("""
                {"model":"m","max_tokens":10,"stop_sequences":["x"],
                 "tools":[{"name":"f","input_schema":{"type":"object"}}],
                 "messages":[{"role":"user","content":"x"}]}""");
        JsonNode copy = req.deepCopy();
        ObjectNode chat = AnthropicMessages.toChat(req);
        ((ObjectNode) chat.at("/tools/0/function/parameters")).put("changed", true);
        chat.withArray("stop").add("y");
        assertEquals(copy, req);
    }
}
