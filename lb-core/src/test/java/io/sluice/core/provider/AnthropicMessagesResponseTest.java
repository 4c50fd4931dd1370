package io.sluice.core.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.http.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** OpenAI completions and errors as Anthropic's {@code message} and error body. */
class AnthropicMessagesResponseTest {

    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    /** As the client reads it (numbers compare by value, not by node class). */
    private static JsonNode fromCompletion(String completion) throws Exception {
        return json(Json.MAPPER.writeValueAsString(AnthropicMessages.fromCompletion(json(completion))));
    }

    @Test
    void textCompletion() throws Exception {
        JsonNode message = fromCompletion("""
                {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,
                 "model":"llama-3-8b","choices":[{"index":0,"message":{"role":"assistant","content":"Hi! 👋 Ça va?",
                 "refusal":null},"logprobs":null,"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}}""");
        assertEquals(json("""
                {"id":"msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT","type":"message","role":"assistant","model":"llama-3-8b",
                 "content":[{"type":"text","text":"Hi! 👋 Ça va?"}],"stop_reason":"end_turn","stop_sequence":null,
                 "usage":{"input_tokens":19,"output_tokens":10}}"""), message);
    }

    @Test
    void toolCallsBecomeToolUseBlocksAfterTheText() throws Exception {
        JsonNode message = fromCompletion("""
                {"id":"chatcmpl-1","model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{
                  "role":"assistant","content":"Checking.","tool_calls":[
                   {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\\"location\\":\\"Paris\\"}"}},
                   {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}}],
                 "usage":{"prompt_tokens":5,"completion_tokens":7}}""");
        assertEquals(json("""
                [{"type":"text","text":"Checking."},
                 {"type":"tool_use","id":"call_a","name":"get_weather","input":{"location":"Paris"}},
                 {"type":"tool_use","id":"call_b","name":"get_time","input":{}}]"""), message.get("content"));
        assertEquals("tool_use", message.get("stop_reason").asText());
    }

    @ParameterizedTest
    @CsvSource({"stop,end_turn", "length,max_tokens", "tool_calls,tool_use", "content_filter,refusal"})
    void stopReasons(String finish, String stop) throws Exception {
        JsonNode message = fromCompletion("""
                {"id":"x","model":"m","choices":[{"index":0,"finish_reason":"%s","message":{"role":"assistant",
                 "content":"t"}}]}""".formatted(finish));
        assertEquals(stop, message.get("stop_reason").asText());
        assertTrue(message.get("stop_sequence").isNull());
        assertEquals(json("{\"input_tokens\":0,\"output_tokens\":0}"), message.get("usage")); // none reported
    }

    @Test
    void refusalIsTextWithStopReasonRefusal() throws Exception {
        JsonNode message = fromCompletion("""
                {"id":"x","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",
                 "content":null,"refusal":"I can't help with that."}}]}""");
        assertEquals(json("[{\"type\":\"text\",\"text\":\"I can't help with that.\"}]"), message.get("content"));
        assertEquals("refusal", message.get("stop_reason").asText());
    }

    @Test
    void emptyAnswerHasNoBlocks() throws Exception {
        JsonNode message = fromCompletion("""
                {"id":"x","model":"m","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":""}}]}""");
        assertEquals(0, message.get("content").size());
        assertEquals("max_tokens", message.get("stop_reason").asText());
    }

    @Test
    void argumentsThatAreNotAnObjectAreRefused() throws Exception {
        for (String args : new String[] {"{\\\"location\\\": \\\"Par", "[1,2]"}) {
            JsonNode completion = json("""
                    {"id":"x","model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
                     "content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"%s"}}]}}]}"""
                    .formatted(args));
            TranslationException e = assertThrows(TranslationException.class,
                    () -> AnthropicMessages.fromCompletion(completion));
            assertEquals("choices[0].message.tool_calls[0].function.arguments", e.param());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "400,,invalid_request_error", "401,invalid_api_key,authentication_error", "402,,billing_error",
            "403,,permission_error", "404,model_not_found,not_found_error", "409,,conflict_error",
            "413,,request_too_large", "422,,invalid_request_error", "429,rate_limit_exceeded,rate_limit_error",
            "500,,api_error", "502,,api_error", "503,,api_error", "504,,timeout_error", "529,,overloaded_error",
            // a code that already is an Anthropic type wins over the status
            "502,overloaded_error,overloaded_error", "400,request_too_large,request_too_large"})
    void errorTypes(int status, String code, String type) throws Exception {
        String body = AnthropicMessages.errorJson(new ProviderError(status, "Something \"quoted\" happened", code, null));
        assertEquals(json("""
                {"type":"error","error":{"type":"%s","message":"Something \\"quoted\\" happened"}}""".formatted(type)),
                json(body));
    }
}
