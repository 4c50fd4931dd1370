package io.sluice.sim.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * The Gemini API's {@code generateContent} and {@code streamGenerateContent} as its reference describes
 * them (ai.google.dev/api/generate-content: GenerateContentResponse, Candidate, UsageMetadata;
 * ai.google.dev/api/models for the listing; Google's JSON error envelope {@code {"error":{"code","message","status"}}}).
 *
 * <p>With {@code alt=sse} each chunk is one {@code data: <GenerateContentResponse>} event, terminated by
 * {@code \r\n\r\n} as Google's servers write them (no {@code [DONE]}: the stream simply ends); without it, the
 * chunks are elements of one JSON array written piecemeal. The last chunk has {@code finishReason: STOP};
 * every chunk carries cumulative {@code usageMetadata}.
 *
 * <p>A missing or wrong key gets 401 {@code UNAUTHENTICATED} with an {@code API_KEY_INVALID} ErrorInfo (the real
 * service answers a wrong key with 400 {@code INVALID_ARGUMENT} and the same reason, a missing one with 403).
 */
final class GeminiDialect implements Dialect {
    private static final String JSON = "application/json; charset=UTF-8";
    private static final String SSE = "text/event-stream";
    private static final String INTERNAL = "An internal error has occurred. Please retry or report in "
            + "https://developers.generativeai.google/guide/troubleshooting";

    private final ProviderSimOptions options;

    GeminiDialect(ProviderSimOptions options) {
        this.options = options;
    }

    @Override
    public Reply handle(Call call) {
        String key = call.header("x-goog-api-key");
        if (key == null) {
            key = call.query("key");
        }
        if (key == null || !key.equals(options.apiKey())) {
            ObjectNode body = errorBody(401, key == null ? "Method doesn't allow unregistered callers (callers without "
                    + "established identity). Please use API Key or other form of API consumer identity to call this API."
                    : "API key not valid. Please pass a valid API key.", "UNAUTHENTICATED");
            ((ObjectNode) body.get("error")).putArray("details").addObject()
                    .put("@type", "type.googleapis.com/google.rpc.ErrorInfo").put("reason", "API_KEY_INVALID")
                    .put("domain", "googleapis.com").putObject("metadata")
                    .put("service", "generativelanguage.googleapis.com");
            return json(HttpResponseStatus.UNAUTHORIZED, body);
        }
        String path = call.path;
        String prefix = path.startsWith("/v1beta/") ? "/v1beta/" : path.startsWith("/v1/") ? "/v1/" : null;
        if (prefix != null) {
            String rest = path.substring(prefix.length());
            if (call.method.equals("GET") && rest.equals("models")) {
                ArrayNode models = Call.arr();
                options.models().forEach(m -> models.add(model(m)));
                ObjectNode list = Call.obj();
                list.set("models", models);
                return json(HttpResponseStatus.OK, list);
            }
            if (rest.startsWith("models/")) {
                String resource = rest.substring("models/".length());
                int colon = resource.lastIndexOf(':');
                if (colon < 0 && call.method.equals("GET")) {
                    if (options.models().contains(resource)) {
                        return json(HttpResponseStatus.OK, model(resource));
                    }
                    return error(HttpResponseStatus.NOT_FOUND, "models/" + resource + " is not found for API version "
                            + prefix.replace("/", "") + ", or is not supported for generateContent.", "NOT_FOUND");
                }
                if (colon > 0 && call.method.equals("POST")) {
                    String model = resource.substring(0, colon);
                    String method = resource.substring(colon + 1);
                    if (method.equals("generateContent")) {
                        return generate(call, model, false);
                    }
                    if (method.equals("streamGenerateContent")) {
                        return generate(call, model, true);
                    }
                }
            }
        }
        return error(HttpResponseStatus.NOT_FOUND, "Method not found.", "NOT_FOUND");
    }

    private Reply generate(Call call, String model, boolean stream) {
        ObjectNode req;
        try {
            req = call.json();
        } catch (JsonProcessingException e) {
            return error(HttpResponseStatus.BAD_REQUEST, "Invalid JSON payload received. Unexpected token.",
                    "INVALID_ARGUMENT");
        }
        JsonNode contents = req.get("contents");
        if (contents == null || !contents.isArray() || contents.isEmpty()) {
            return error(HttpResponseStatus.BAD_REQUEST, "* GenerateContentRequest.contents: contents is not specified\n",
                    "INVALID_ARGUMENT");
        }
        Behaviour behaviour = Behaviour.of(model);
        switch (behaviour) {
            case RATE_LIMITED: {
                ObjectNode body = errorBody(429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED");
                ((ObjectNode) body.get("error")).putArray("details").addObject()
                        .put("@type", "type.googleapis.com/google.rpc.RetryInfo").put("retryDelay", "7s");
                return json(HttpResponseStatus.TOO_MANY_REQUESTS, body).header("retry-after", "7");
            }
            case SERVER_ERROR:
                return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, INTERNAL, "INTERNAL");
            case ERROR_MID_STREAM:
                if (!stream) {
                    return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, INTERNAL, "INTERNAL");
                }
                break;
            default:
                break;
        }
        int prompt = 0;
        for (JsonNode part : req.path("systemInstruction").path("parts")) {
            prompt += Behaviour.words(part.path("text").asText(""));
        }
        for (JsonNode content : contents) {
            for (JsonNode part : content.path("parts")) {
                prompt += Behaviour.words(part.path("text").asText(""));
            }
        }
        Reply.Pace pace = behaviour.pace(options);
        if (behaviour == Behaviour.FAIL_MID_STREAM && !stream) {
            return Reply.abort(pace);
        }
        boolean tool = behaviour == Behaviour.TOOL_CALL;
        String toolName = req.path("tools").path(0).path("functionDeclarations").path(0).path("name")
                .asText(Behaviour.FALLBACK_TOOL);
        Response r = new Response(model, Call.randomId(22), prompt);
        List<String> pieces = tool ? Behaviour.TOOL_ARGUMENT_PIECES : behaviour.pieces(options.reply());
        if (!stream) {
            byte[] body = tool ? r.toolCall(toolName, pieces.size()) : r.text(String.join("", pieces), true, pieces.size());
            return Reply.generated(JSON, body, pace, pieces.size());
        }
        boolean sse = "sse".equals(call.query("alt"));
        Framing framing = new Framing(sse);
        List<Reply.Event> events = new ArrayList<>();
        if (tool) {
            events.add(new Reply.Event(framing.element(r.toolCall(toolName, pieces.size())), true));
        } else {
            for (int i = 0; i < pieces.size(); i++) {
                if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.FAIL_MID_STREAM) {
                    return Reply.stream(framing.contentType(), events, Reply.Ending.ABORT, pace);
                }
                if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.ERROR_MID_STREAM) {
                    events.add(new Reply.Event(framing.element(Call.bytes(errorBody(500, INTERNAL, "INTERNAL"))), true));
                    addClose(framing, events);
                    return Reply.stream(framing.contentType(), events, Reply.Ending.ERROR, pace);
                }
                boolean last = i == pieces.size() - 1;
                events.add(new Reply.Event(framing.element(r.text(pieces.get(i), last, i + 1)), true));
            }
        }
        addClose(framing, events);
        return Reply.stream(framing.contentType(), events, Reply.Ending.COMPLETE, pace);
    }

    private static void addClose(Framing framing, List<Reply.Event> events) {
        byte[] close = framing.close();
        if (close != null) {
            events.add(new Reply.Event(close, false));
        }
    }

    /** SSE events, or the elements of a JSON array as Google streams one without {@code alt=sse}. */
    private static final class Framing {
        final boolean sse;
        boolean first = true;

        Framing(boolean sse) {
            this.sse = sse;
        }

        String contentType() {
            return sse ? SSE : JSON;
        }

        byte[] element(byte[] json) {
            String s = new String(json, java.nio.charset.StandardCharsets.UTF_8);
            String out = sse ? "data: " + s + "\r\n\r\n" : (first ? "[" : ",\r\n") + s;
            first = false;
            return Call.utf8(out);
        }

        byte[] close() {
            return sse ? null : Call.utf8(first ? "[]" : "]");
        }
    }

    /** The fields one GenerateContentResponse chunk shares with the others. */
    private static final class Response {
        final String model;
        final String responseId;
        final int prompt;

        Response(String model, String responseId, int prompt) {
            this.model = model;
            this.responseId = responseId;
            this.prompt = prompt;
        }

        byte[] text(String text, boolean last, int generated) {
            ObjectNode part = Call.obj().put("text", text);
            return response(part, last, generated);
        }

        byte[] toolCall(String name, int generated) {
            ObjectNode part = Call.obj();
            ObjectNode fc = part.putObject("functionCall").put("name", name);
            fc.putObject("args").put("city", "Paris").put("unit", "celsius");
            return response(part, true, generated);
        }

        private byte[] response(ObjectNode part, boolean last, int generated) {
            ObjectNode body = Call.obj();
            ObjectNode candidate = body.putArray("candidates").addObject();
            ObjectNode content = candidate.putObject("content");
            content.putArray("parts").add(part);
            content.put("role", "model");
            if (last) {
                candidate.put("finishReason", "STOP");
            }
            candidate.put("index", 0);
            ObjectNode usage = body.putObject("usageMetadata").put("promptTokenCount", prompt)
                    .put("candidatesTokenCount", generated).put("totalTokenCount", prompt + generated);
            usage.putArray("promptTokensDetails").addObject().put("modality", "TEXT").put("tokenCount", prompt);
            body.put("modelVersion", model).put("responseId", responseId);
            return Call.bytes(body);
        }
    }

    private static ObjectNode model(String id) {
        ObjectNode m = Call.obj().put("name", "models/" + id).put("version", "001").put("displayName", id)
                .put("description", "Simulated " + id).put("inputTokenLimit", 1048576).put("outputTokenLimit", 8192);
        m.putArray("supportedGenerationMethods").add("generateContent").add("countTokens");
        m.put("temperature", 1).put("topP", 0.95).put("topK", 40).put("maxTemperature", 2);
        return m;
    }

    private static ObjectNode errorBody(int code, String message, String status) {
        ObjectNode body = Call.obj();
        body.putObject("error").put("code", code).put("message", message).put("status", status);
        return body;
    }

    private static Reply error(HttpResponseStatus status, String message, String grpcStatus) {
        return json(status, errorBody(status.code(), message, grpcStatus));
    }

    private static Reply json(HttpResponseStatus status, JsonNode body) {
        return Reply.now(status, JSON, Call.bytes(body));
    }
}
