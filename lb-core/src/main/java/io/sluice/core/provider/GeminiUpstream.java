package io.sluice.core.provider;

import static io.sluice.core.provider.ChatRequest.reject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Google's Gemini API as the upstream (Gemini API reference, "Generating content": {@code generateContent},
 * {@code streamGenerateContent?alt=sse}, {@code GenerateContentResponse}, "Function calling").
 *
 * <p>Request: {@code system}/{@code developer} messages become {@code systemInstruction} parts; assistant
 * is {@code model}; tool results are {@code functionResponse} parts of a user turn, named by looking the
 * {@code tool_call_id} up in the earlier assistant {@code tool_calls}; a result that is not a JSON object is
 * wrapped as {@code {"content": <the text>}} (Gemini's {@code response} is a Struct); consecutive turns of
 * one role are merged. Images must be data URLs ({@code inlineData}): Gemini only fetches {@code fileData}
 * URIs it hosts. {@code response_format} json_object/json_schema become {@code responseMimeType}
 * application/json (and {@code responseJsonSchema}); {@code seed}, penalties and {@code top_k} map to
 * {@code generationConfig}. Ignored: {@code user} (an abuse-tracking id, no behaviour).
 * Refused: {@code n} &gt; 1 (Sluice reads one candidate), {@code parallel_tool_calls: false}, {@code logprobs},
 * {@code logit_bias}, {@code audio}, {@code prediction}, {@code reasoning_effort}, {@code functions},
 * audio/file parts, unknown roles, and any field not listed.
 */
final class GeminiUpstream {
    private GeminiUpstream() {
    }

    static UpstreamCall request(JsonNode chat, String model) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ObjectNode config = Json.MAPPER.createObjectNode();
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
                case "temperature" -> config.set("temperature", v);
                case "top_p" -> config.set("topP", v);
                case "top_k" -> config.set("topK", v);
                case "seed" -> config.set("seed", v);
                case "presence_penalty" -> config.set("presencePenalty", v);
                case "frequency_penalty" -> config.set("frequencyPenalty", v);
                case "n" -> {
                    if (v.asInt() != 1) {
                        throw reject("n > 1 (several candidates) is not supported for Gemini", "n");
                    }
                    config.put("candidateCount", 1);
                }
                case "stop" -> {
                    ArrayNode stops = ChatRequest.stops(v);
                    if (!stops.isEmpty()) {
                        config.set("stopSequences", stops);
                    }
                }
                case "parallel_tool_calls" -> {
                    if (!v.asBoolean(true)) {
                        throw reject("parallel_tool_calls: false is not supported for Gemini", "parallel_tool_calls");
                    }
                }
                case "response_format" -> {
                    String type = v.path("type").asText();
                    if (type.equals("json_object")) {
                        config.put("responseMimeType", "application/json");
                    } else if (type.equals("json_schema") && v.path("json_schema").path("schema").isObject()) {
                        config.put("responseMimeType", "application/json");
                        config.set("responseJsonSchema", v.path("json_schema").path("schema").deepCopy());
                    } else if (!type.equals("text")) {
                        throw reject("response_format " + type + " is not supported for Gemini", "response_format");
                    }
                }
                default -> ChatRequest.common(f.getKey(), v, "Gemini");
            }
        }
        JsonNode max = ChatRequest.maxTokens(chat);
        if (max != null) {
            config.set("maxOutputTokens", max);
        }
        contents(chat, body);
        ArrayNode declarations = Json.MAPPER.createArrayNode();
        for (JsonNode fn : ChatRequest.functions(chat.get("tools"))) {
            ObjectNode d = declarations.addObject();
            d.put("name", fn.path("name").asText());
            if (fn.hasNonNull("description")) {
                d.put("description", fn.path("description").asText());
            }
            if (fn.path("parameters").isObject()) {
                d.set("parameters", fn.path("parameters").deepCopy());
            }
        }
        if (!declarations.isEmpty()) {
            body.putArray("tools").addObject().set("functionDeclarations", declarations);
        }
        ChatRequest.ToolChoice choice = ChatRequest.toolChoice(chat.get("tool_choice"));
        if (choice != null) {
            ObjectNode fcc = body.putObject("toolConfig").putObject("functionCallingConfig");
            switch (choice.mode()) {
                case "auto" -> fcc.put("mode", "AUTO");
                case "required" -> fcc.put("mode", "ANY");
                case "none" -> fcc.put("mode", "NONE");
                default -> {
                    fcc.put("mode", "ANY");
                    fcc.putArray("allowedFunctionNames").add(choice.function());
                }
            }
        }
        if (!config.isEmpty()) {
            body.set("generationConfig", config);
        }
        String name = model.startsWith("models/") ? model.substring(7) : model;
        String segment = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        String path = "/v1beta/models/" + segment + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        return new UpstreamCall(path, body, stream);
    }

    private static void contents(JsonNode chat, ObjectNode body) {
        JsonNode messages = ChatRequest.messages(chat);
        ArrayNode system = Json.MAPPER.createArrayNode();
        ArrayNode contents = Json.MAPPER.createArrayNode();
        Map<String, String> toolNames = new HashMap<>();
        ObjectNode last = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            String role = m.path("role").asText();
            ArrayNode parts = Json.MAPPER.createArrayNode();
            String target;
            switch (role) {
                case "system", "developer" -> {
                    String text = ChatRequest.text(m.get("content"), at + ".content");
                    if (!text.isEmpty()) {
                        system.addObject().put("text", text);
                    }
                    continue;
                }
                case "user" -> {
                    target = "user";
                    for (ChatRequest.Part p : ChatRequest.parts(m.get("content"), at + ".content")) {
                        if (p.isText()) {
                            if (!p.text().isEmpty()) {
                                parts.addObject().put("text", p.text());
                            }
                        } else if (p.base64() != null) {
                            parts.addObject().putObject("inlineData").put("mimeType", p.mediaType()).put("data", p.base64());
                        } else {
                            throw reject("Gemini takes images as data URLs only (it fetches only files it hosts)",
                                    at + ".content");
                        }
                    }
                }
                case "assistant" -> {
                    target = "model";
                    for (ChatRequest.Part p : ChatRequest.parts(m.get("content"), at + ".content")) {
                        if (!p.isText()) {
                            throw reject("assistant content must be text", at + ".content");
                        }
                        if (!p.text().isEmpty()) {
                            parts.addObject().put("text", p.text());
                        }
                    }
                    JsonNode calls = m.path("tool_calls");
                    for (int j = 0; j < calls.size(); j++) {
                        JsonNode call = calls.get(j);
                        String fn = call.path("function").path("name").asText();
                        toolNames.put(call.path("id").asText(), fn);
                        ObjectNode fc = parts.addObject().putObject("functionCall");
                        fc.put("name", fn);
                        fc.set("args", ChatRequest.arguments(call, at + ".tool_calls[" + j + "]"));
                    }
                }
                case "tool" -> {
                    target = "user";
                    String callId = m.path("tool_call_id").asText();
                    String fn = toolNames.get(callId);
                    if (fn == null) {
                        throw reject("tool_call_id " + callId + " matches no earlier assistant tool call"
                                + " (Gemini needs the function's name)", at + ".tool_call_id");
                    }
                    ObjectNode fr = parts.addObject().putObject("functionResponse");
                    fr.put("name", fn);
                    fr.set("response", response(ChatRequest.text(m.get("content"), at + ".content")));
                }
                default -> throw reject("unknown role " + role, at + ".role");
            }
            if (parts.isEmpty()) {
                continue;
            }
            if (last != null && last.path("role").asText().equals(target)) {
                ((ArrayNode) last.get("parts")).addAll(parts);
            } else {
                last = contents.addObject();
                last.put("role", target);
                last.set("parts", parts);
            }
        }
        body.set("contents", contents);
        if (!system.isEmpty()) {
            body.putObject("systemInstruction").set("parts", system);
        }
    }

    /** A tool's result as the JSON object Gemini wants: the object itself, else {"content": text}. */
    private static ObjectNode response(String text) {
        try {
            JsonNode parsed = Json.MAPPER.readTree(text);
            if (parsed != null && parsed.isObject()) {
                return (ObjectNode) parsed;
            }
        } catch (IOException e) {
            // not JSON: wrapped below
        }
        return Json.MAPPER.createObjectNode().put("content", text);
    }

    static String finishReason(String reason, boolean toolCalls) {
        return switch (reason) {
            case "MAX_TOKENS" -> "length";
            case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY" -> "content_filter";
            default -> toolCalls ? "tool_calls" : "stop"; // STOP, OTHER, ...
        };
    }

    /** completion = candidates + thoughts: OpenAI's completion_tokens include reasoning tokens too. */
    static Usage usage(JsonNode meta) {
        if (!meta.isObject() || !(meta.has("promptTokenCount") || meta.has("candidatesTokenCount"))) {
            return null;
        }
        return new Usage(meta.path("promptTokenCount").asLong(),
                meta.path("candidatesTokenCount").asLong() + meta.path("thoughtsTokenCount").asLong());
    }

    static ObjectNode completion(JsonNode body, String model) {
        StringBuilder text = new StringBuilder();
        ArrayNode calls = Json.MAPPER.createArrayNode();
        JsonNode candidate = body.path("candidates").path(0);
        for (JsonNode part : candidate.path("content").path("parts")) {
            if (part.path("thought").asBoolean(false)) {
                continue;
            }
            if (part.has("text")) {
                text.append(part.path("text").asText());
            } else if (part.has("functionCall")) {
                ObjectNode call = calls.addObject();
                call.put("id", Ids.toolCall());
                call.put("type", "function");
                JsonNode args = part.path("functionCall").path("args");
                call.putObject("function").put("name", part.path("functionCall").path("name").asText())
                        .put("arguments", args.isMissingNode() ? "{}" : args.toString());
            }
        }
        String reason = candidate.path("finishReason").asText("");
        if (reason.isEmpty() && !body.path("promptFeedback").path("blockReason").asText("").isEmpty()) {
            reason = "SAFETY";
        }
        String id = body.path("responseId").asText("");
        return Completions.of(id.isEmpty() ? Ids.completion() : "chatcmpl-" + id, model,
                text.length() == 0 && !calls.isEmpty() ? null : text.toString(), calls,
                finishReason(reason, !calls.isEmpty()), usage(body.path("usageMetadata")));
    }

    /** {@code {"error":{"code","message","status"}}}, also inside an array as the streaming endpoint answers. */
    static ProviderError error(int status, byte[] body, String retryAfter) {
        JsonNode json = ErrorBodies.json(body);
        if (json != null && json.isArray()) {
            json = json.path(0);
        }
        JsonNode e = json == null ? null : json.path("error");
        if (e == null || !e.isObject()) {
            return ErrorBodies.generic(status, retryAfter);
        }
        return fromErrorObject(status, e, retryAfter);
    }

    private static ProviderError fromErrorObject(int status, JsonNode e, String retryAfter) {
        String message = ErrorBodies.textOrNull(e.path("message"));
        String code = ErrorBodies.textOrNull(e.path("status"));
        return new ProviderError(status, message == null ? "the provider answered HTTP " + status : message,
                code == null ? ErrorBodies.codeFor(status) : code, retryAfter);
    }

    /**
     * {@code data:} events of {@code GenerateContentResponse}s; no {@code [DONE]}: the stream is complete
     * when the body ends after a {@code finishReason}. Function calls arrive whole. An error object in the
     * stream keeps its status when it is 429 or 503 (worth retrying elsewhere), else it is a 502.
     */
    static final class Decoder extends SseStream {
        private int tools;
        private String finish;

        Decoder(String model, ChunkSink sink) {
            super(model, sink);
        }

        @Override
        void event(String name, String data) {
            JsonNode r = parse(data);
            if (r == null) {
                return;
            }
            if (r.has("error")) {
                JsonNode e = r.path("error");
                int code = e.path("code").asInt();
                fail(fromErrorObject(code == 429 || code == 503 ? code : 502, e, null));
                return;
            }
            String responseId = r.path("responseId").asText("");
            if (!responseId.isEmpty() && !started()) {
                id = "chatcmpl-" + responseId;
            }
            Usage u = GeminiUpstream.usage(r.path("usageMetadata"));
            if (u != null) {
                usage = u;
            }
            JsonNode candidate = r.path("candidates").path(0);
            for (JsonNode part : candidate.path("content").path("parts")) {
                if (part.path("thought").asBoolean(false)) {
                    continue;
                }
                if (part.has("text")) {
                    content(part.path("text").asText());
                } else if (part.has("functionCall")) {
                    JsonNode args = part.path("functionCall").path("args");
                    toolStart(tools++, Ids.toolCall(), part.path("functionCall").path("name").asText(),
                            args.isMissingNode() ? "{}" : args.toString());
                }
            }
            String reason = candidate.path("finishReason").asText("");
            if (reason.isEmpty() && !r.path("promptFeedback").path("blockReason").asText("").isEmpty()) {
                reason = "SAFETY"; // the prompt was blocked: no candidates at all
            }
            if (!reason.isEmpty() && finish == null) {
                finish = finishReason(reason, toolCallSeen);
                finish(finish);
            }
        }

        @Override
        void bodyEnded() {
            if (finish != null) {
                complete();
            } else {
                super.bodyEnded();
            }
        }
    }
}
