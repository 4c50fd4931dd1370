package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * OpenAI's chat completions as the upstream (OpenAI API reference, "Create chat completion" and
 * "The chat completion chunk object"): the pivot, so requests and answers pass through; Sluice only names
 * the model and asks a stream for its usage ({@code stream_options.include_usage}).
 */
final class OpenAiUpstream {
    private OpenAiUpstream() {
    }

    static UpstreamCall request(JsonNode chat, String model) {
        ObjectNode body = (ObjectNode) chat.deepCopy();
        body.put("model", model);
        boolean stream = ChatRequest.stream(chat);
        if (stream) {
            JsonNode options = body.get("stream_options");
            ObjectNode o = options != null && options.isObject() ? (ObjectNode) options : body.putObject("stream_options");
            o.put("include_usage", true); // the usage Sluice accounts; OpenAiSse drops it if the client did not ask
        }
        return new UpstreamCall("/chat/completions", body, stream);
    }

    static ObjectNode completion(JsonNode body, String model) {
        ObjectNode c = (ObjectNode) body.deepCopy();
        if (!c.hasNonNull("model")) {
            c.put("model", model);
        }
        return c;
    }

    /** {@code {"error":{"message","type","param","code"}}}: the code when there is one, else the type. */
    static ProviderError error(int status, byte[] body, String retryAfter) {
        JsonNode json = ErrorBodies.json(body);
        JsonNode e = json == null ? null : json.path("error");
        if (e == null || e.isMissingNode()) {
            return ErrorBodies.generic(status, retryAfter);
        }
        if (e.isTextual()) { // some OpenAI-compatible servers answer {"error": "..."}
            return new ProviderError(status, e.asText(), ErrorBodies.codeFor(status), retryAfter);
        }
        return fromErrorObject(status, e, retryAfter);
    }

    static ProviderError fromErrorObject(int status, JsonNode e, String retryAfter) {
        String message = ErrorBodies.textOrNull(e.path("message"));
        String code = ErrorBodies.textOrNull(e.path("code"));
        if (code == null) {
            code = ErrorBodies.textOrNull(e.path("type"));
        }
        return new ProviderError(status, message == null ? "the provider answered HTTP " + status : message,
                code == null ? ErrorBodies.codeFor(status) : code, retryAfter);
    }

    /** Chunks pass on as they are (the model named if missing); {@code data: [DONE]} ends the stream. */
    static final class Decoder extends SseStream {
        Decoder(String model, ChunkSink sink) {
            super(model, sink);
        }

        @Override
        void event(String name, String data) {
            if (data.trim().equals("[DONE]")) {
                complete(false); // the provider's usage chunk already passed on
                return;
            }
            JsonNode node = parse(data);
            if (node == null) {
                return;
            }
            if (node.has("error")) {
                JsonNode e = node.get("error");
                fail(e.isTextual() ? new ProviderError(502, e.asText(), "upstream_error", null)
                        : fromErrorObject(502, e, null));
                return;
            }
            ObjectNode chunk = (ObjectNode) node;
            if (!chunk.hasNonNull("model")) {
                chunk.put("model", model);
            }
            JsonNode u = chunk.get("usage");
            if (u != null && u.isObject()) {
                usage = new Usage(u.path("prompt_tokens").asLong(), u.path("completion_tokens").asLong());
            }
            sink.chunk(chunk);
        }
    }
}
