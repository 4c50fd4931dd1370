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
 * Ollama's native chat API as the upstream (Ollama docs/api.md, "Generate a chat completion":
 * {@code POST /api/chat}, NDJSON when streaming, the final object {@code done: true} with
 * {@code done_reason}, {@code prompt_eval_count} and {@code eval_count}).
 *
 * <p>Request: content parts' text is joined with a newline; images go base64 (data URLs only: Ollama
 * fetches nothing) into {@code images}; tool call arguments are objects; a tool message gets
 * {@code tool_name} when its call is found; {@code stream} is always explicit (Ollama defaults to true);
 * sampling goes into {@code options} (temperature, num_predict, top_p, top_k, stop, seed, penalties);
 * {@code response_format} json_object/json_schema become {@code format} "json"/the schema;
 * {@code tool_choice} none drops the tools, auto is Ollama's behaviour. Ignored: {@code user}.
 * Refused: {@code tool_choice} required or a named function, {@code parallel_tool_calls: false},
 * {@code n} &gt; 1, {@code logprobs}, {@code logit_bias}, {@code audio}, {@code prediction},
 * {@code reasoning_effort}, audio/file parts, unknown roles and any field not listed.
 */
final class OllamaUpstream {
    private OllamaUpstream() {
    }

    static UpstreamCall request(JsonNode chat, String model) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("model", model);
        ObjectNode options = Json.MAPPER.createObjectNode();
        boolean stream = ChatRequest.stream(chat);
        for (Iterator<Map.Entry<String, JsonNode>> it = chat.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (v.isNull()) {
                continue;
            }
            switch (f.getKey()) {
                case "max_tokens", "max_completion_tokens", "tools", "tool_choice", "user" -> {
                }
                case "temperature" -> options.set("temperature", v);
                case "top_p" -> options.set("top_p", v);
                case "top_k" -> options.set("top_k", v);
                case "seed" -> options.set("seed", v);
                case "presence_penalty" -> options.set("presence_penalty", v);
                case "frequency_penalty" -> options.set("frequency_penalty", v);
                case "stop" -> {
                    ArrayNode stops = ChatRequest.stops(v);
                    if (!stops.isEmpty()) {
                        options.set("stop", stops);
                    }
                }
                case "parallel_tool_calls" -> {
                    if (!v.asBoolean(true)) {
                        throw reject("parallel_tool_calls: false is not supported for Ollama", "parallel_tool_calls");
                    }
                }
                case "response_format" -> {
                    String type = v.path("type").asText();
                    if (type.equals("json_object")) {
                        body.put("format", "json");
                    } else if (type.equals("json_schema") && v.path("json_schema").path("schema").isObject()) {
                        body.set("format", v.path("json_schema").path("schema").deepCopy());
                    } else if (!type.equals("text")) {
                        throw reject("response_format " + type + " is not supported for Ollama", "response_format");
                    }
                }
                default -> ChatRequest.common(f.getKey(), v, "Ollama");
            }
        }
        JsonNode max = ChatRequest.maxTokens(chat);
        if (max != null) {
            options.set("num_predict", max);
        }
        body.set("messages", messages(chat));
        ChatRequest.ToolChoice choice = ChatRequest.toolChoice(chat.get("tool_choice"));
        if (choice != null && (choice.mode().equals("required") || choice.mode().equals("function"))) {
            throw reject("Ollama cannot be made to call a tool (tool_choice " + choice.mode() + ")", "tool_choice");
        }
        ArrayNode tools = Json.MAPPER.createArrayNode();
        for (JsonNode fn : ChatRequest.functions(chat.get("tools"))) {
            ObjectNode t = tools.addObject();
            t.put("type", "function");
            t.set("function", fn.deepCopy());
        }
        if (!tools.isEmpty() && (choice == null || !choice.mode().equals("none"))) {
            body.set("tools", tools);
        }
        if (!options.isEmpty()) {
            body.set("options", options);
        }
        body.put("stream", stream);
        return new UpstreamCall("/api/chat", body, stream);
    }

    private static ArrayNode messages(JsonNode chat) {
        JsonNode messages = ChatRequest.messages(chat);
        ArrayNode out = Json.MAPPER.createArrayNode();
        Map<String, String> toolNames = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            String role = m.path("role").asText();
            ObjectNode o = out.addObject();
            switch (role) {
                case "system", "developer" -> o.put("role", "system")
                        .put("content", ChatRequest.text(m.get("content"), at + ".content"));
                case "user", "assistant" -> {
                    o.put("role", role);
                    StringBuilder text = new StringBuilder();
                    ArrayNode images = Json.MAPPER.createArrayNode();
                    for (ChatRequest.Part p : ChatRequest.parts(m.get("content"), at + ".content")) {
                        if (p.isText()) {
                            if (!text.isEmpty()) {
                                text.append('\n');
                            }
                            text.append(p.text());
                        } else if (p.base64() != null) {
                            images.add(p.base64());
                        } else {
                            throw reject("Ollama takes images as data URLs only", at + ".content");
                        }
                    }
                    o.put("content", text.toString());
                    if (!images.isEmpty()) {
                        o.set("images", images);
                    }
                    JsonNode calls = m.path("tool_calls");
                    if (calls.size() > 0) {
                        ArrayNode tc = o.putArray("tool_calls");
                        for (int j = 0; j < calls.size(); j++) {
                            JsonNode call = calls.get(j);
                            String fn = call.path("function").path("name").asText();
                            toolNames.put(call.path("id").asText(), fn);
                            ObjectNode f = tc.addObject().putObject("function");
                            f.put("name", fn);
                            f.set("arguments", ChatRequest.arguments(call, at + ".tool_calls[" + j + "]"));
                        }
                    }
                }
                case "tool" -> {
                    o.put("role", "tool").put("content", ChatRequest.text(m.get("content"), at + ".content"));
                    String fn = toolNames.get(m.path("tool_call_id").asText());
                    if (fn != null) {
                        o.put("tool_name", fn);
                    }
                }
                default -> throw reject("unknown role " + role, at + ".role");
            }
        }
        return out;
    }

    static String finishReason(String doneReason, boolean toolCalls) {
        if ("length".equals(doneReason)) {
            return "length";
        }
        return toolCalls ? "tool_calls" : "stop";
    }

    static Usage usage(JsonNode r) {
        if (!r.has("prompt_eval_count") && !r.has("eval_count")) {
            return null;
        }
        return new Usage(r.path("prompt_eval_count").asLong(), r.path("eval_count").asLong());
    }

    static ArrayNode toolCalls(JsonNode calls) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (JsonNode call : calls) {
            ObjectNode c = out.addObject();
            c.put("id", Ids.toolCall());
            c.put("type", "function");
            c.putObject("function").put("name", call.path("function").path("name").asText())
                    .put("arguments", arguments(call));
        }
        return out;
    }

    private static String arguments(JsonNode call) {
        JsonNode args = call.path("function").path("arguments");
        return args.isTextual() ? args.asText() : args.isMissingNode() ? "{}" : args.toString();
    }

    static ObjectNode completion(JsonNode body, String model) {
        JsonNode message = body.path("message");
        ArrayNode calls = toolCalls(message.path("tool_calls"));
        String text = message.path("content").asText("");
        return Completions.of(Ids.completion(), model, text.isEmpty() && !calls.isEmpty() ? null : text, calls,
                finishReason(ErrorBodies.textOrNull(body.path("done_reason")), !calls.isEmpty()), usage(body));
    }

    /** {@code {"error": "..."}}; Ollama gives no code, so it comes from the status. */
    static ProviderError error(int status, byte[] body, String retryAfter) {
        JsonNode json = ErrorBodies.json(body);
        String message = json == null ? null : ErrorBodies.textOrNull(json.path("error"));
        if (message == null) {
            return ErrorBodies.generic(status, retryAfter);
        }
        return new ProviderError(status, message, ErrorBodies.codeFor(status), retryAfter);
    }

    /** NDJSON lines; tool calls arrive whole; the line with {@code done: true} ends the stream. */
    static final class Decoder extends ChunkStream {
        private int tools;

        Decoder(String model, ChunkSink sink) {
            super(model, sink);
        }

        @Override
        public void line(String line) {
            if (line.isBlank()) {
                return;
            }
            JsonNode r = parse(line);
            if (r == null) {
                return;
            }
            if (r.has("error")) {
                String message = ErrorBodies.textOrNull(r.path("error"));
                fail(new ProviderError(502, message == null ? "the provider reported an error" : message,
                        "upstream_error", null));
                return;
            }
            JsonNode message = r.path("message");
            content(message.path("content").asText(""));
            for (JsonNode call : message.path("tool_calls")) {
                toolStart(tools++, Ids.toolCall(), call.path("function").path("name").asText(), arguments(call));
            }
            if (r.path("done").asBoolean(false)) {
                usage = OllamaUpstream.usage(r);
                finish(finishReason(ErrorBodies.textOrNull(r.path("done_reason")), toolCallSeen));
                complete();
            }
        }
    }
}
