package io.sluice.core.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.core.http.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * An Anthropic Messages request ({@code POST /v1/messages}, Anthropic's "Create a Message" reference) as an
 * OpenAI chat completions request. See {@link AnthropicMessages#toChat} for what is mapped and what is refused.
 */
final class AnthropicClientRequest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Top-level fields Anthropic defines that have an equivalent (or are a hint without effect on the answer). */
    private static final Set<String> KNOWN = Set.of("model", "messages", "max_tokens", "system", "metadata",
            "stop_sequences", "stream", "temperature", "top_p", "tools", "tool_choice", "service_tier");

    private AnthropicClientRequest() {
    }

    static ObjectNode toChat(JsonNode req) {
        if (req == null || !req.isObject()) {
            throw new TranslationException("the request body must be a JSON object", null);
        }
        rejectUnsupportedFields(req);
        ObjectNode chat = NODES.objectNode();
        if (req.hasNonNull("model")) {
            chat.set("model", req.get("model"));
        }
        ArrayNode messages = chat.putArray("messages");
        system(req.get("system"), messages);
        JsonNode in = req.get("messages");
        if (in == null || !in.isArray()) {
            throw new TranslationException("messages: field required (an array of messages)", "messages");
        }
        for (int i = 0; i < in.size(); i++) {
            message(in.get(i), "messages[" + i + "]", messages);
        }
        JsonNode maxTokens = req.get("max_tokens");
        if (maxTokens == null || !maxTokens.canConvertToInt() || !maxTokens.isIntegralNumber()) {
            throw new TranslationException("max_tokens: field required (an integer)", "max_tokens");
        }
        chat.set("max_tokens", maxTokens);
        copyNumber(req, "temperature", chat, "temperature");
        copyNumber(req, "top_p", chat, "top_p");
        stop(req.get("stop_sequences"), chat);
        JsonNode stream = req.get("stream");
        if (stream != null && !stream.isNull()) {
            if (!stream.isBoolean()) {
                throw new TranslationException("stream: must be a boolean", "stream");
            }
            chat.put("stream", stream.booleanValue());
            if (stream.booleanValue()) {
                // Anthropic's stream always reports usage (message_start, message_delta): ask the upstream for it.
                chat.putObject("stream_options").put("include_usage", true);
            }
        }
        tools(req.get("tools"), chat);
        toolChoice(req.get("tool_choice"), chat);
        metadata(req.get("metadata"), chat);
        return chat;
    }

    private static void rejectUnsupportedFields(JsonNode req) {
        for (Iterator<String> names = req.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (KNOWN.contains(name) || req.get(name).isNull()) {
                continue;
            }
            String why = switch (name) {
                case "top_k" -> "top_k has no equivalent in the OpenAI chat completions API Sluice translates to";
                case "thinking" -> "extended thinking is not supported through Sluice's translation";
                default -> name + " is not supported through Sluice's translation";
            };
            throw new TranslationException(why, name);
        }
    }

    /** {@code system}: a string, or an array of text blocks (joined with newlines), as the first message. */
    private static void system(JsonNode system, ArrayNode messages) {
        if (system == null || system.isNull()) {
            return;
        }
        String text;
        if (system.isTextual()) {
            text = system.textValue();
        } else if (system.isArray()) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < system.size(); i++) {
                JsonNode block = system.get(i);
                if (!"text".equals(type(block))) {
                    throw new TranslationException("system[" + i + "]: only text blocks are supported in system",
                            "system[" + i + "]");
                }
                parts.add(text(block, "system[" + i + "]"));
            }
            text = String.join("\n", parts);
        } else {
            throw new TranslationException("system: must be a string or an array of text blocks", "system");
        }
        if (!text.isEmpty()) {
            messages.addObject().put("role", "system").put("content", text);
        }
    }

    private static void message(JsonNode m, String at, ArrayNode out) {
        if (m == null || !m.isObject()) {
            throw new TranslationException(at + ": must be an object with role and content", at);
        }
        String role = m.path("role").asText("");
        JsonNode content = m.get("content");
        if (content == null || !(content.isTextual() || content.isArray())) {
            throw new TranslationException(at + ".content: must be a string or an array of content blocks",
                    at + ".content");
        }
        switch (role) {
            case "user" -> user(content, at, out);
            case "assistant" -> assistant(content, at, out);
            default -> throw new TranslationException(at + ".role: unknown role '" + role
                    + "' (Anthropic messages are user or assistant; use the system field for system prompts)",
                    at + ".role");
        }
    }

    /**
     * A user turn: tool_result blocks become {@code tool} messages; the text and images after them one user
     * message. Anthropic requires the tool results first, so a tool result after other content is refused.
     */
    private static void user(JsonNode content, String at, ArrayNode out) {
        if (content.isTextual()) {
            out.addObject().put("role", "user").put("content", content.textValue());
            return;
        }
        ArrayNode parts = NODES.arrayNode();
        for (int i = 0; i < content.size(); i++) {
            JsonNode block = content.get(i);
            String where = at + ".content[" + i + "]";
            String type = type(block);
            switch (type) {
                case "text" -> parts.addObject().put("type", "text").put("text", text(block, where));
                case "image" -> parts.add(image(block, where));
                case "tool_result" -> {
                    if (!parts.isEmpty()) {
                        throw new TranslationException(where + ": tool_result blocks must come first in the"
                                + " content, before any text or image", where);
                    }
                    out.add(toolResult(block, where));
                }
                default -> throw unsupportedBlock(type, "user", where);
            }
        }
        if (!parts.isEmpty()) {
            ObjectNode user = out.addObject().put("role", "user");
            if (parts.size() == 1 && "text".equals(parts.get(0).path("type").asText())) {
                user.put("content", parts.get(0).path("text").asText());
            } else {
                user.set("content", parts);
            }
        }
    }

    /** An assistant turn: its text as content, its tool_use blocks as tool_calls. */
    private static void assistant(JsonNode content, String at, ArrayNode out) {
        ObjectNode assistant = NODES.objectNode().put("role", "assistant");
        if (content.isTextual()) {
            out.add(assistant.put("content", content.textValue()));
            return;
        }
        List<String> texts = new ArrayList<>();
        ArrayNode calls = NODES.arrayNode();
        for (int i = 0; i < content.size(); i++) {
            JsonNode block = content.get(i);
            String where = at + ".content[" + i + "]";
            String type = type(block);
            switch (type) {
                case "text" -> texts.add(text(block, where));
                case "tool_use" -> calls.add(toolCall(block, where));
                default -> throw unsupportedBlock(type, "assistant", where);
            }
        }
        if (texts.isEmpty()) {
            assistant.putNull("content");
        } else if (texts.size() == 1) {
            assistant.put("content", texts.get(0));
        } else {
            ArrayNode parts = assistant.putArray("content");
            texts.forEach(t -> parts.addObject().put("type", "text").put("text", t));
        }
        if (!calls.isEmpty()) {
            assistant.set("tool_calls", calls);
        }
        out.add(assistant);
    }

    private static TranslationException unsupportedBlock(String type, String role, String where) {
        String why = switch (type) {
            case "document", "search_result" -> type + " blocks are not supported through Sluice's translation";
            case "thinking", "redacted_thinking" -> type + " blocks are not supported (extended thinking is not"
                    + " supported through Sluice's translation)";
            case "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
                 "bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "mcp_tool_use",
                 "mcp_tool_result", "container_upload" -> type + " blocks (server tools) are not supported through"
                    + " Sluice's translation";
            case "image", "tool_result", "tool_use" -> type + " blocks are not allowed in a " + role + " message";
            case "" -> "content block without a type";
            default -> "unknown content block type '" + type + "'";
        };
        return new TranslationException(where + ": " + why, where);
    }

    private static ObjectNode image(JsonNode block, String where) {
        JsonNode source = block.path("source");
        String url = switch (source.path("type").asText("")) {
            case "base64" -> {
                String mediaType = source.path("media_type").asText("");
                String data = source.path("data").asText("");
                if (mediaType.isEmpty() || data.isEmpty()) {
                    throw new TranslationException(where + ".source: base64 images need media_type and data",
                            where + ".source");
                }
                yield "data:" + mediaType + ";base64," + data;
            }
            case "url" -> {
                String u = source.path("url").asText("");
                if (u.isEmpty()) {
                    throw new TranslationException(where + ".source.url: field required", where + ".source.url");
                }
                yield u;
            }
            default -> throw new TranslationException(where + ".source: image source type '"
                    + source.path("type").asText("") + "' is not supported (base64 or url)", where + ".source");
        };
        ObjectNode part = NODES.objectNode().put("type", "image_url");
        part.putObject("image_url").put("url", url);
        return part;
    }

    private static ObjectNode toolResult(JsonNode block, String where) {
        String id = block.path("tool_use_id").asText("");
        if (id.isEmpty()) {
            throw new TranslationException(where + ".tool_use_id: field required", where + ".tool_use_id");
        }
        JsonNode content = block.get("content");
        String text;
        if (content == null || content.isNull()) {
            text = "";
        } else if (content.isTextual()) {
            text = content.textValue();
        } else if (content.isArray()) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < content.size(); i++) {
                JsonNode inner = content.get(i);
                String innerAt = where + ".content[" + i + "]";
                String type = type(inner);
                if (!"text".equals(type)) {
                    throw new TranslationException(innerAt + ": " + (type.isEmpty() ? "a block without type" : type)
                            + " in a tool_result is not supported through Sluice's translation (only text)", innerAt);
                }
                texts.add(text(inner, innerAt));
            }
            text = String.join("\n", texts);
        } else {
            throw new TranslationException(where + ".content: must be a string or an array of blocks",
                    where + ".content");
        }
        // is_error has no equivalent in a tool message; the content (the error's text) is kept.
        return NODES.objectNode().put("role", "tool").put("tool_call_id", id).put("content", text);
    }

    private static ObjectNode toolCall(JsonNode block, String where) {
        String id = block.path("id").asText("");
        String name = block.path("name").asText("");
        if (id.isEmpty() || name.isEmpty()) {
            throw new TranslationException(where + ": tool_use blocks need id and name", where);
        }
        JsonNode input = block.get("input");
        String arguments;
        try {
            arguments = Json.MAPPER.writeValueAsString(input == null || input.isNull() ? NODES.objectNode() : input);
        } catch (JsonProcessingException e) {
            throw new TranslationException(where + ".input: cannot be serialised", where + ".input");
        }
        ObjectNode call = NODES.objectNode().put("id", id).put("type", "function");
        call.putObject("function").put("name", name).put("arguments", arguments);
        return call;
    }

    private static void stop(JsonNode stops, ObjectNode chat) {
        if (stops == null || stops.isNull()) {
            return;
        }
        if (!stops.isArray()) {
            throw new TranslationException("stop_sequences: must be an array of strings", "stop_sequences");
        }
        for (JsonNode s : stops) {
            if (!s.isTextual()) {
                throw new TranslationException("stop_sequences: must be an array of strings", "stop_sequences");
            }
        }
        if (!stops.isEmpty()) {
            chat.set("stop", stops.deepCopy());
        }
    }

    /** Custom tools only: Anthropic's server tools and versioned built-in tools have no OpenAI form. */
    private static void tools(JsonNode tools, ObjectNode chat) {
        if (tools == null || tools.isNull()) {
            return;
        }
        if (!tools.isArray()) {
            throw new TranslationException("tools: must be an array", "tools");
        }
        ArrayNode out = chat.putArray("tools");
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            String at = "tools[" + i + "]";
            String type = tool.path("type").asText("custom");
            if (!"custom".equals(type)) {
                throw new TranslationException(at + ": tool type '" + type + "' (a server or built-in tool) is not"
                        + " supported through Sluice's translation; only custom tools", at + ".type");
            }
            String name = tool.path("name").asText("");
            if (name.isEmpty()) {
                throw new TranslationException(at + ".name: field required", at + ".name");
            }
            JsonNode schema = tool.get("input_schema");
            if (schema == null || !schema.isObject()) {
                throw new TranslationException(at + ".input_schema: field required (a JSON Schema object)",
                        at + ".input_schema");
            }
            for (Iterator<String> names = tool.fieldNames(); names.hasNext(); ) {
                String field = names.next();
                if (!Set.of("type", "name", "description", "input_schema", "cache_control", "strict",
                        "eager_input_streaming").contains(field)) {
                    throw new TranslationException(at + "." + field + " is not supported through Sluice's translation",
                            at + "." + field);
                }
            }
            ObjectNode function = out.addObject().put("type", "function").putObject("function");
            function.put("name", name);
            if (tool.hasNonNull("description")) {
                function.put("description", tool.get("description").asText());
            }
            function.set("parameters", schema.deepCopy());
            if (tool.path("strict").isBoolean()) {
                function.put("strict", tool.get("strict").booleanValue());
            }
        }
    }

    private static void toolChoice(JsonNode choice, ObjectNode chat) {
        if (choice == null || choice.isNull()) {
            return;
        }
        String type = choice.path("type").asText("");
        switch (type) {
            case "auto" -> chat.put("tool_choice", "auto");
            case "any" -> chat.put("tool_choice", "required");
            case "none" -> chat.put("tool_choice", "none");
            case "tool" -> {
                String name = choice.path("name").asText("");
                if (name.isEmpty()) {
                    throw new TranslationException("tool_choice.name: field required for type tool",
                            "tool_choice.name");
                }
                ObjectNode named = chat.putObject("tool_choice").put("type", "function");
                named.putObject("function").put("name", name);
            }
            default -> throw new TranslationException("tool_choice.type: unknown type '" + type
                    + "' (auto, any, tool or none)", "tool_choice.type");
        }
        if (choice.path("disable_parallel_tool_use").asBoolean(false) && !"none".equals(type)) {
            chat.put("parallel_tool_calls", false);
        }
    }

    private static void metadata(JsonNode metadata, ObjectNode chat) {
        if (metadata == null || metadata.isNull()) {
            return;
        }
        JsonNode user = metadata.get("user_id");
        if (user != null && user.isTextual() && !user.textValue().isEmpty()) {
            chat.put("user", user.textValue());
        }
    }

    private static void copyNumber(JsonNode from, String name, ObjectNode to, String as) {
        JsonNode v = from.get(name);
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isNumber()) {
            throw new TranslationException(name + ": must be a number", name);
        }
        to.set(as, v);
    }

    private static String type(JsonNode block) {
        if (block == null || !block.isObject()) {
            return "";
        }
        return block.path("type").asText("");
    }

    private static String text(JsonNode block, String where) {
        JsonNode t = block.get("text");
        if (t == null || !t.isTextual()) {
            throw new TranslationException(where + ".text: field required (a string)", where + ".text");
        }
        return t.textValue();
    }
}
