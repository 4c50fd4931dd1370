package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading an OpenAI chat completions request (OpenAI API reference, "Create chat completion") for the
 * translators: the fields every non-OpenAI provider treats alike, message content, data URLs, tool calls.
 */
final class ChatRequest {
    private ChatRequest() {
    }

    /**
     * The fields that are fine when they ask for OpenAI's default, and the ones no provider here can express;
     * anything unknown is refused too, so nothing the client asked for is dropped silently.
     * Ignored on purpose: {@code stream_options} (Sluice always asks the provider for usage),
     * {@code service_tier}, {@code metadata} (only meaningful with OpenAI's stored completions),
     * {@code store: false}.
     *
     * @throws TranslationException naming the field
     */
    static void common(String field, JsonNode value, String provider) {
        switch (field) {
            case "model", "messages", "stream", "stream_options", "service_tier", "metadata" -> {
            }
            case "n" -> {
                if (!value.isNull() && value.asInt() != 1) {
                    throw reject("n > 1 (several choices) is not supported for " + provider, field);
                }
            }
            case "logprobs", "store" -> {
                if (!value.isNull() && value.asBoolean()) {
                    throw reject(field + " is not supported for " + provider, field);
                }
            }
            case "top_logprobs" -> {
                if (!value.isNull() && value.asInt() != 0) {
                    throw reject(field + " is not supported for " + provider, field);
                }
            }
            case "logit_bias" -> {
                if (!value.isNull() && !value.isEmpty()) {
                    throw reject(field + " is not supported for " + provider, field);
                }
            }
            case "modalities" -> {
                if (!value.isNull() && !(value.size() == 1 && "text".equals(value.path(0).asText()))) {
                    throw reject("only text output is supported for " + provider, field);
                }
            }
            case "response_format" -> {
                if (!isTextFormat(value)) {
                    throw reject("response_format " + value.path("type").asText() + " is not supported for "
                            + provider, field);
                }
            }
            case "presence_penalty", "frequency_penalty" -> {
                if (!value.isNull() && value.asDouble() != 0) {
                    throw reject(field + " is not supported for " + provider, field);
                }
            }
            default -> {
                if (!value.isNull()) {
                    throw reject(field + " is not supported for " + provider, field);
                }
            }
        }
    }

    static boolean isTextFormat(JsonNode responseFormat) {
        return responseFormat == null || responseFormat.isNull() || "text".equals(responseFormat.path("type").asText());
    }

    static TranslationException reject(String message, String param) {
        return new TranslationException(message, param);
    }

    /** {@code max_completion_tokens}, else {@code max_tokens}, else null. */
    static JsonNode maxTokens(JsonNode chat) {
        JsonNode n = chat.get("max_completion_tokens");
        if (n == null || n.isNull()) {
            n = chat.get("max_tokens");
        }
        return n == null || n.isNull() ? null : n;
    }

    /** {@code stop} as a list: a string or an array of strings. */
    static ArrayNode stops(JsonNode stop) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        if (stop == null || stop.isNull()) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw reject("stop must be a string or an array of strings", "stop");
                }
                out.add(s.asText());
            }
        } else {
            throw reject("stop must be a string or an array of strings", "stop");
        }
        return out;
    }

    static boolean stream(JsonNode chat) {
        return chat.path("stream").asBoolean(false);
    }

    static JsonNode messages(JsonNode chat) {
        JsonNode messages = chat.get("messages");
        if (messages == null || !messages.isArray()) {
            throw reject("messages must be an array", "messages");
        }
        return messages;
    }

    /** The text of system or tool content: a string, or an array of text parts (concatenated). */
    static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw reject("content must be a string or an array of parts", param);
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (JsonNode part : content) {
            String type = part.path("type").asText();
            if (!type.equals("text") && !type.equals("refusal")) {
                throw reject("content part of type " + type + " is not allowed here", param + "[" + i + "]");
            }
            sb.append(part.path(type).asText());
            i++;
        }
        return sb.toString();
    }

    /** A content part in a uniform shape: text, or an image given as a data URL or a remote URL. */
    record Part(String text, String mediaType, String base64, String url) {
        boolean isText() {
            return text != null;
        }
    }

    /**
     * The parts of user or assistant content.
     *
     * @throws TranslationException for audio, files and other parts no provider here takes
     */
    static List<Part> parts(JsonNode content, String param) {
        List<Part> out = new ArrayList<>();
        if (content == null || content.isNull()) {
            return out;
        }
        if (content.isTextual()) {
            out.add(new Part(content.asText(), null, null, null));
            return out;
        }
        if (!content.isArray()) {
            throw reject("content must be a string or an array of parts", param);
        }
        int i = 0;
        for (JsonNode part : content) {
            String at = param + "[" + i++ + "]";
            String type = part.path("type").asText();
            switch (type) {
                case "text", "refusal" -> out.add(new Part(part.path(type).asText(), null, null, null));
                case "image_url" -> {
                    JsonNode image = part.path("image_url");
                    String url = image.isTextual() ? image.asText() : image.path("url").asText();
                    if (url.regionMatches(true, 0, "data:", 0, 5)) {
                        int comma = url.indexOf(',');
                        String meta = comma < 0 ? "" : url.substring(5, comma);
                        if (comma < 0 || !meta.endsWith(";base64")) {
                            throw reject("an image data URL must be base64: data:<type>;base64,<data>", at);
                        }
                        out.add(new Part(null, meta.substring(0, meta.length() - 7), url.substring(comma + 1), null));
                    } else if (url.startsWith("https://") || url.startsWith("http://")) {
                        out.add(new Part(null, null, null, url));
                    } else {
                        throw reject("an image URL must be a data: or http(s) URL", at);
                    }
                }
                default -> throw reject("content part of type " + type + " is not supported for this provider", at);
            }
        }
        return out;
    }

    /** A tool call's {@code function.arguments} (a JSON string) as an object; "" is {}. */
    static ObjectNode arguments(JsonNode toolCall, String param) {
        JsonNode raw = toolCall.path("function").path("arguments");
        if (raw.isObject()) {
            return (ObjectNode) raw.deepCopy();
        }
        String s = raw.asText("");
        if (s.isBlank()) {
            return Json.MAPPER.createObjectNode();
        }
        try {
            JsonNode parsed = Json.MAPPER.readTree(s);
            if (parsed != null && parsed.isObject()) {
                return (ObjectNode) parsed;
            }
        } catch (IOException e) {
            // reported below
        }
        throw reject("tool call arguments must be a JSON object", param + ".function.arguments");
    }

    /** The OpenAI {@code tools}, checked: functions only. */
    static List<JsonNode> functions(JsonNode tools) {
        List<JsonNode> out = new ArrayList<>();
        if (tools == null || tools.isNull()) {
            return out;
        }
        if (!tools.isArray()) {
            throw reject("tools must be an array", "tools");
        }
        int i = 0;
        for (JsonNode tool : tools) {
            if (!"function".equals(tool.path("type").asText()) || !tool.path("function").path("name").isTextual()) {
                throw reject("only tools of type function (with a name) are supported", "tools[" + i + "]");
            }
            out.add(tool.path("function"));
            i++;
        }
        return out;
    }

    /** tool_choice as one of auto, required, none, or the name of the function to call. */
    record ToolChoice(String mode, String function) {
    }

    static ToolChoice toolChoice(JsonNode choice) {
        if (choice == null || choice.isNull()) {
            return null;
        }
        if (choice.isTextual()) {
            String mode = choice.asText();
            if (mode.equals("auto") || mode.equals("required") || mode.equals("none")) {
                return new ToolChoice(mode, null);
            }
        } else if ("function".equals(choice.path("type").asText())
                && choice.path("function").path("name").isTextual()) {
            return new ToolChoice("function", choice.path("function").path("name").asText());
        }
        throw reject("tool_choice must be auto, required, none or {type: function, function: {name}}", "tool_choice");
    }
}
