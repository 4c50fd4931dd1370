package io.sluice.core.provider;

import static io.sluice.core.provider.ChatRequest.reject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Anthropic's Messages API as the upstream (Anthropic API reference, "Messages" and "Streaming Messages").
 *
 * <p>Request fields: {@code system}/{@code developer} messages become the top-level {@code system} (joined
 * with a blank line, so their position in the conversation is lost); consecutive messages of one role are
 * merged, as Anthropic wants the roles to alternate; {@code role: tool} messages become {@code tool_result}
 * blocks of a user message; {@code max_tokens} defaults to {@value #DEFAULT_MAX_TOKENS} (Anthropic requires
 * it); {@code parallel_tool_calls: false} becomes {@code tool_choice.disable_parallel_tool_use};
 * {@code top_k} (not OpenAI's, but often sent) passes on. {@code seed} is ignored: Anthropic has none, and
 * OpenAI's is best effort too. Refused ({@link TranslationException}): {@code n} &gt; 1, {@code logprobs},
 * {@code top_logprobs}, {@code logit_bias}, {@code response_format} other than text, non-zero
 * {@code presence_penalty}/{@code frequency_penalty}, {@code audio}, {@code modalities} other than text,
 * {@code prediction}, {@code reasoning_effort}, {@code web_search_options}, {@code functions},
 * {@code store: true}, audio and file content parts, unknown roles and any field not listed.
 */
final class AnthropicUpstream {
    static final int DEFAULT_MAX_TOKENS = 4096;

    private AnthropicUpstream() {
    }

    static UpstreamCall request(JsonNode chat, String model) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", model);
        boolean stream = ChatRequest.stream(chat);
        JsonNode parallel = null;
        JsonNode toolChoice = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = chat.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (v.isNull()) {
                continue; // null asks for the default
            }
            switch (f.getKey()) {
                case "max_tokens", "max_completion_tokens", "tools" -> {
                }
                case "temperature" -> body.set("temperature", v);
                case "top_p" -> body.set("top_p", v);
                case "top_k" -> body.set("top_k", v);
                case "stop" -> {
                    ArrayNode stops = ChatRequest.stops(v);
                    if (!stops.isEmpty()) {
                        body.set("stop_sequences", stops);
                    }
                }
                case "user" -> {
                    if (v.isTextual()) {
                        body.putObject("metadata").put("user_id", v.asText());
                    }
                }
                case "tool_choice" -> toolChoice = v;
                case "parallel_tool_calls" -> parallel = v;
                case "seed" -> {
                }
                default -> ChatRequest.common(f.getKey(), v, "Anthropic");
            }
        }
        JsonNode max = ChatRequest.maxTokens(chat);
        body.put("max_tokens", max == null ? DEFAULT_MAX_TOKENS : max.asInt());
        messages(chat, body);
        ArrayNode tools = Json.MAPPER.createArrayNode();
        for (JsonNode fn : ChatRequest.functions(chat.get("tools"))) {
            ObjectNode t = tools.addObject();
            t.put("name", fn.path("name").asText());
            if (fn.hasNonNull("description")) {
                t.put("description", fn.path("description").asText());
            }
            JsonNode params = fn.get("parameters");
            if (params != null && params.isObject()) {
                t.set("input_schema", params.deepCopy());
            } else {
                t.putObject("input_schema").put("type", "object").putObject("properties");
            }
        }
        if (!tools.isEmpty()) {
            body.set("tools", tools);
        }
        ChatRequest.ToolChoice choice = ChatRequest.toolChoice(toolChoice);
        boolean noParallel = parallel != null && !parallel.isNull() && !parallel.asBoolean(true);
        if (choice != null || (noParallel && !tools.isEmpty())) {
            ObjectNode tc = body.putObject("tool_choice");
            String mode = choice == null ? "auto" : choice.mode();
            switch (mode) {
                case "auto" -> tc.put("type", "auto");
                case "required" -> tc.put("type", "any");
                case "none" -> tc.put("type", "none");
                default -> tc.put("type", "tool").put("name", choice.function());
            }
            if (noParallel && !mode.equals("none")) {
                tc.put("disable_parallel_tool_use", true);
            }
        }
        if (stream) {
            body.put("stream", true);
        }
        return new UpstreamCall("/v1/messages", body, stream);
    }

    private static void messages(JsonNode chat, ObjectNode body) {
        JsonNode messages = ChatRequest.messages(chat);
        StringBuilder system = new StringBuilder();
        ArrayNode out = Json.MAPPER.createArrayNode();
        ObjectNode last = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            String role = m.path("role").asText();
            ArrayNode blocks = Json.MAPPER.createArrayNode();
            String targetRole;
            switch (role) {
                case "system", "developer" -> {
                    String text = ChatRequest.text(m.get("content"), at + ".content");
                    if (!text.isEmpty()) {
                        if (!system.isEmpty()) {
                            system.append("\n\n");
                        }
                        system.append(text);
                    }
                    continue;
                }
                case "user" -> {
                    targetRole = "user";
                    for (ChatRequest.Part p : ChatRequest.parts(m.get("content"), at + ".content")) {
                        addPart(blocks, p);
                    }
                }
                case "assistant" -> {
                    targetRole = "assistant";
                    for (ChatRequest.Part p : ChatRequest.parts(m.get("content"), at + ".content")) {
                        if (!p.isText()) {
                            throw reject("assistant content must be text", at + ".content");
                        }
                        addPart(blocks, p);
                    }
                    JsonNode calls = m.path("tool_calls");
                    for (int j = 0; j < calls.size(); j++) {
                        JsonNode call = calls.get(j);
                        ObjectNode use = blocks.addObject();
                        use.put("type", "tool_use");
                        use.put("id", call.path("id").asText());
                        use.put("name", call.path("function").path("name").asText());
                        use.set("input", ChatRequest.arguments(call, at + ".tool_calls[" + j + "]"));
                    }
                }
                case "tool" -> {
                    targetRole = "user";
                    ObjectNode result = blocks.addObject();
                    result.put("type", "tool_result");
                    result.put("tool_use_id", m.path("tool_call_id").asText());
                    result.put("content", ChatRequest.text(m.get("content"), at + ".content"));
                }
                default -> throw reject("unknown role " + role, at + ".role");
            }
            if (blocks.isEmpty()) {
                continue; // Anthropic refuses empty content; an empty message says nothing
            }
            if (last != null && last.path("role").asText().equals(targetRole)) {
                ((ArrayNode) last.get("content")).addAll(blocks);
            } else {
                last = out.addObject();
                last.put("role", targetRole);
                last.set("content", blocks);
            }
        }
        if (!system.isEmpty()) {
            body.put("system", system.toString());
        }
        body.set("messages", out);
    }

    private static void addPart(ArrayNode blocks, ChatRequest.Part p) {
        if (p.isText()) {
            if (!p.text().isEmpty()) { // Anthropic refuses empty text blocks
                blocks.addObject().put("type", "text").put("text", p.text());
            }
        } else if (p.base64() != null) {
            blocks.addObject().put("type", "image").putObject("source")
                    .put("type", "base64").put("media_type", p.mediaType()).put("data", p.base64());
        } else {
            blocks.addObject().put("type", "image").putObject("source").put("type", "url").put("url", p.url());
        }
    }

    static String finishReason(String stopReason) {
        if (stopReason == null) {
            return "stop";
        }
        return switch (stopReason) {
            case "max_tokens", "model_context_window_exceeded" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop"; // end_turn, stop_sequence, pause_turn
        };
    }

    /** Prompt tokens as OpenAI counts them: Anthropic's input_tokens exclude the cache reads and writes. */
    static long promptTokens(JsonNode usage) {
        return usage.path("input_tokens").asLong() + usage.path("cache_creation_input_tokens").asLong()
                + usage.path("cache_read_input_tokens").asLong();
    }

    /** A {@code message} (non-streamed answer) as a {@code chat.completion}. */
    static ObjectNode completion(JsonNode body, String model) {
        StringBuilder text = new StringBuilder();
        ArrayNode calls = Json.MAPPER.createArrayNode();
        for (JsonNode block : body.path("content")) {
            switch (block.path("type").asText()) {
                case "text" -> text.append(block.path("text").asText());
                case "tool_use" -> {
                    ObjectNode call = calls.addObject();
                    call.put("id", block.path("id").asText());
                    call.put("type", "function");
                    call.putObject("function").put("name", block.path("name").asText())
                            .put("arguments", block.path("input").isMissingNode() ? "{}" : block.path("input").toString());
                }
                default -> {
                }
            }
        }
        JsonNode u = body.path("usage");
        Usage usage = u.isObject() ? new Usage(promptTokens(u), u.path("output_tokens").asLong()) : null;
        String id = body.path("id").asText("");
        return Completions.of(id.isEmpty() ? Ids.completion() : "chatcmpl-" + id, model,
                text.length() == 0 && !calls.isEmpty() ? null : text.toString(), calls,
                finishReason(ErrorBodies.textOrNull(body.path("stop_reason"))), usage);
    }

    /** {@code {"type":"error","error":{"type","message"}}}. */
    static ProviderError error(int status, byte[] body, String retryAfter) {
        JsonNode json = ErrorBodies.json(body);
        JsonNode e = json == null ? null : json.path("error");
        if (e == null || !e.isObject()) {
            return ErrorBodies.generic(status, retryAfter);
        }
        String message = ErrorBodies.textOrNull(e.path("message"));
        String type = ErrorBodies.textOrNull(e.path("type"));
        return new ProviderError(status, message == null ? "the provider answered HTTP " + status : message,
                type == null ? ErrorBodies.codeFor(status) : type, retryAfter);
    }

    /**
     * {@code message_start}, then per content block {@code content_block_start}/{@code _delta}/{@code _stop},
     * {@code message_delta} (stop reason, cumulative usage), {@code message_stop}; {@code ping} and blocks
     * other than text and tool_use (thinking, server tools) are skipped.
     */
    static final class Decoder extends SseStream {
        /** Content block index to tool call index (OpenAI counts tool calls only). */
        private final Map<Integer, Integer> toolIndex = new HashMap<>();
        private long promptTokens;
        private long completionTokens;
        private boolean usageSeen;

        Decoder(String model, ChunkSink sink) {
            super(model, sink);
        }

        @Override
        void event(String name, String data) {
            JsonNode e = parse(data);
            if (e == null) {
                return;
            }
            String type = name != null && !name.isEmpty() ? name : e.path("type").asText();
            switch (type) {
                case "message_start" -> {
                    JsonNode message = e.path("message");
                    String msgId = message.path("id").asText("");
                    if (!msgId.isEmpty() && !started()) {
                        id = "chatcmpl-" + msgId;
                    }
                    usage(message.path("usage"));
                    if (!started()) {
                        emit(Json.MAPPER.createObjectNode().put("content", ""), null);
                    }
                }
                case "content_block_start" -> {
                    JsonNode block = e.path("content_block");
                    switch (block.path("type").asText()) {
                        case "text" -> content(block.path("text").asText());
                        case "tool_use" -> {
                            int index = toolIndex.size();
                            toolIndex.put(e.path("index").asInt(), index);
                            JsonNode input = block.path("input");
                            toolStart(index, block.path("id").asText(), block.path("name").asText(),
                                    input.isObject() && !input.isEmpty() ? input.toString() : "");
                        }
                        default -> {
                        }
                    }
                }
                case "content_block_delta" -> {
                    JsonNode delta = e.path("delta");
                    switch (delta.path("type").asText()) {
                        case "text_delta" -> content(delta.path("text").asText());
                        case "input_json_delta" -> {
                            Integer index = toolIndex.get(e.path("index").asInt());
                            if (index != null) {
                                toolArguments(index, delta.path("partial_json").asText());
                            }
                        }
                        default -> {
                        }
                    }
                }
                case "message_delta" -> {
                    usage(e.path("usage"));
                    String stop = ErrorBodies.textOrNull(e.path("delta").path("stop_reason"));
                    if (stop != null) {
                        finish(finishReason(stop));
                    }
                }
                case "message_stop" -> {
                    finish(toolCallSeen ? "tool_calls" : "stop");
                    complete();
                }
                case "error" -> {
                    JsonNode err = e.path("error");
                    String code = ErrorBodies.textOrNull(err.path("type"));
                    int status = "overloaded_error".equals(code) ? 529 : "rate_limit_error".equals(code) ? 429 : 502;
                    String message = ErrorBodies.textOrNull(err.path("message"));
                    fail(new ProviderError(status, message == null ? "the provider reported an error" : message,
                            code == null ? "upstream_error" : code, null));
                }
                default -> {
                } // ping, and event types added later
            }
        }

        private void usage(JsonNode u) {
            if (!u.isObject()) {
                return;
            }
            if (u.has("input_tokens") || u.has("cache_read_input_tokens") || u.has("cache_creation_input_tokens")) {
                promptTokens = promptTokens(u);
                usageSeen = true;
            }
            if (u.has("output_tokens")) {
                completionTokens = u.path("output_tokens").asLong(); // cumulative
                usageSeen = true;
            }
            if (usageSeen) {
                usage = new Usage(promptTokens, completionTokens);
            }
        }
    }
}
