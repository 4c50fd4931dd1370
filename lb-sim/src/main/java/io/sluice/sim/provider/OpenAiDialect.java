package io.sluice.sim.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's Chat Completions API as the API reference describes it (platform.openai.com/docs/api-reference/chat:
 * the chat completion object, the chunk object, {@code stream_options.include_usage}; error codes in
 * the guides' "Error codes" page).
 *
 * <p>Streams: a first chunk whose delta carries the role, one chunk per piece, a chunk with an empty delta
 * and the {@code finish_reason}, then with {@code include_usage} a chunk with {@code "choices":[]} and the usage
 * (every other chunk then has {@code "usage":null}), then {@code data: [DONE]}.
 */
final class OpenAiDialect implements Dialect {
    private static final String JSON = "application/json";
    private static final String SSE = "text/event-stream; charset=utf-8";
    private static final String SERVER_ERROR =
            "The server had an error while processing your request. Sorry about that!";

    private final ProviderSimOptions options;

    OpenAiDialect(ProviderSimOptions options) {
        this.options = options;
    }

    @Override
    public Reply handle(Call call) {
        String auth = call.header("authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return error(HttpResponseStatus.UNAUTHORIZED, "You didn't provide an API key. You need to provide your API "
                    + "key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the "
                    + "password field (with blank username) if you're accessing the API from your browser and are "
                    + "prompted for a username and password. You can obtain an API key from "
                    + "https://platform.openai.com/account/api-keys.", "invalid_request_error", null, "invalid_api_key");
        }
        String key = auth.substring(7).trim();
        if (!key.equals(options.apiKey())) {
            return error(HttpResponseStatus.UNAUTHORIZED, "Incorrect API key provided: " + mask(key)
                    + ". You can find your API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error", null, "invalid_api_key");
        }
        if (call.is("POST", "/v1/chat/completions")) {
            return chat(call);
        }
        if (call.is("GET", "/v1/models")) {
            ArrayNode data = Call.arr();
            options.models().forEach(m -> data.add(model(m)));
            ObjectNode list = Call.obj().put("object", "list");
            list.set("data", data);
            return json(HttpResponseStatus.OK, list);
        }
        if (call.method.equals("GET") && call.path.startsWith("/v1/models/")) {
            String id = call.path.substring("/v1/models/".length());
            if (options.models().contains(id)) {
                return json(HttpResponseStatus.OK, model(id));
            }
            return error(HttpResponseStatus.NOT_FOUND, "The model '" + id + "' does not exist",
                    "invalid_request_error", "model", "model_not_found");
        }
        return error(HttpResponseStatus.NOT_FOUND, "Invalid URL (" + call.method + " " + call.path + ")",
                "invalid_request_error", null, null);
    }

    private Reply chat(Call call) {
        ObjectNode req;
        try {
            req = call.json();
        } catch (JsonProcessingException e) {
            return error(HttpResponseStatus.BAD_REQUEST, "We could not parse the JSON body of your request. (HINT: This "
                    + "likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                    + "but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please "
                    + "contact us through our help center at help.openai.com.)", "invalid_request_error", null, null);
        }
        JsonNode messages = req.get("messages");
        if (messages == null || !messages.isArray()) {
            return error(HttpResponseStatus.BAD_REQUEST, "Missing required parameter: 'messages'.",
                    "invalid_request_error", "messages", "missing_required_parameter");
        }
        String model = req.path("model").asText("");
        if (model.isEmpty()) {
            return error(HttpResponseStatus.BAD_REQUEST, "you must provide a model parameter", "invalid_request_error",
                    null, null);
        }
        boolean stream = req.path("stream").asBoolean(false);
        JsonNode streamOptions = req.get("stream_options");
        if (!stream && streamOptions != null && !streamOptions.isNull()) {
            return error(HttpResponseStatus.BAD_REQUEST,
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    "invalid_request_error", "stream_options", null);
        }
        boolean includeUsage = stream && streamOptions != null && streamOptions.path("include_usage").asBoolean(false);
        Behaviour behaviour = Behaviour.of(model);
        switch (behaviour) {
            case RATE_LIMITED:
                return error(HttpResponseStatus.TOO_MANY_REQUESTS, "Rate limit reached for " + model
                        + " in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. "
                        + "Please try again in 7s.", "requests", null, "rate_limit_exceeded")
                        .header("retry-after", "7");
            case SERVER_ERROR:
                return serverError();
            case ERROR_MID_STREAM:
                if (!stream) {
                    return serverError();
                }
                break;
            default:
                break;
        }
        int prompt = 0;
        for (JsonNode m : messages) {
            prompt += Call.contentWords(m.get("content"));
        }
        Reply.Pace pace = behaviour.pace(options);
        if (behaviour == Behaviour.FAIL_MID_STREAM && !stream) {
            return Reply.abort(pace);
        }
        Completion c = new Completion("chatcmpl-" + Call.randomId(29), System.currentTimeMillis() / 1000, model,
                includeUsage);
        String requestId = "req_" + Call.randomId(32);
        boolean tool = behaviour == Behaviour.TOOL_CALL;
        String toolName = req.path("tools").path(0).path("function").path("name").asText(Behaviour.FALLBACK_TOOL);
        String toolId = "call_" + Call.randomId(24);
        List<String> pieces = tool ? Behaviour.TOOL_ARGUMENT_PIECES : behaviour.pieces(options.reply());
        if (!stream) {
            ObjectNode message = Call.obj().put("role", "assistant");
            if (tool) {
                message.putNull("content");
                ArrayNode calls = message.putArray("tool_calls");
                ObjectNode tc = calls.addObject().put("id", toolId).put("type", "function");
                tc.putObject("function").put("name", toolName).put("arguments", Behaviour.TOOL_ARGUMENTS);
            } else {
                message.put("content", String.join("", pieces));
            }
            message.putNull("refusal");
            message.putArray("annotations");
            ObjectNode body = c.head("chat.completion");
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            choice.set("message", message);
            choice.putNull("logprobs");
            choice.put("finish_reason", tool ? "tool_calls" : "stop");
            body.set("usage", usage(prompt, pieces.size()));
            body.put("service_tier", "default").put("system_fingerprint", "fp_sim");
            return Reply.generated(JSON, Call.bytes(body), pace, pieces.size()).header("x-request-id", requestId);
        }
        List<Reply.Event> events = new ArrayList<>();
        ObjectNode first = Call.obj().put("role", "assistant");
        if (tool) {
            first.putNull("content");
            ObjectNode tc = first.putArray("tool_calls").addObject().put("index", 0).put("id", toolId)
                    .put("type", "function");
            tc.putObject("function").put("name", toolName).put("arguments", "");
        } else {
            first.put("content", "");
        }
        first.putNull("refusal");
        events.add(new Reply.Event(c.chunk(first, null), false));
        for (int i = 0; i < pieces.size(); i++) {
            if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.FAIL_MID_STREAM) {
                return Reply.stream(SSE, events, Reply.Ending.ABORT, pace).header("x-request-id", requestId);
            }
            if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.ERROR_MID_STREAM) {
                events.add(new Reply.Event(sse(errorBody(SERVER_ERROR, "server_error", null, null)), true));
                return Reply.stream(SSE, events, Reply.Ending.ERROR, pace).header("x-request-id", requestId);
            }
            ObjectNode delta = Call.obj();
            if (tool) {
                delta.putArray("tool_calls").addObject().put("index", 0).putObject("function")
                        .put("arguments", pieces.get(i));
            } else {
                delta.put("content", pieces.get(i));
            }
            events.add(new Reply.Event(c.chunk(delta, null), true));
        }
        events.add(new Reply.Event(c.chunk(Call.obj(), tool ? "tool_calls" : "stop"), false));
        if (includeUsage) {
            ObjectNode last = c.head("chat.completion.chunk");
            last.put("service_tier", "default").put("system_fingerprint", "fp_sim");
            last.putArray("choices");
            last.set("usage", usage(prompt, pieces.size()));
            events.add(new Reply.Event(sse(last), false));
        }
        events.add(new Reply.Event(Call.utf8("data: [DONE]\n\n"), false));
        return Reply.stream(SSE, events, Reply.Ending.COMPLETE, pace).header("x-request-id", requestId);
    }

    /** Fields every chunk of one completion shares. */
    private static final class Completion {
        final String id;
        final long created;
        final String model;
        final boolean includeUsage;

        Completion(String id, long created, String model, boolean includeUsage) {
            this.id = id;
            this.created = created;
            this.model = model;
            this.includeUsage = includeUsage;
        }

        ObjectNode head(String object) {
            return Call.obj().put("id", id).put("object", object).put("created", created).put("model", model);
        }

        byte[] chunk(ObjectNode delta, String finishReason) {
            ObjectNode chunk = head("chat.completion.chunk");
            chunk.put("service_tier", "default").put("system_fingerprint", "fp_sim");
            ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
            choice.set("delta", delta);
            choice.putNull("logprobs");
            if (finishReason == null) {
                choice.putNull("finish_reason");
            } else {
                choice.put("finish_reason", finishReason);
            }
            if (includeUsage) {
                chunk.putNull("usage");
            }
            return sse(chunk);
        }
    }

    private static ObjectNode usage(int prompt, int completion) {
        ObjectNode u = Call.obj().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", 0).put("audio_tokens", 0);
        u.putObject("completion_tokens_details").put("reasoning_tokens", 0).put("audio_tokens", 0)
                .put("accepted_prediction_tokens", 0).put("rejected_prediction_tokens", 0);
        return u;
    }

    private static ObjectNode model(String id) {
        return Call.obj().put("id", id).put("object", "model").put("created", 1686935002L).put("owned_by", "openai");
    }

    private static byte[] sse(JsonNode n) {
        return Call.utf8("data: " + Call.text(n) + "\n\n");
    }

    private static Reply serverError() {
        return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, SERVER_ERROR, "server_error", null, null);
    }

    private static ObjectNode errorBody(String message, String type, String param, String code) {
        ObjectNode e = Call.obj();
        ObjectNode inner = e.putObject("error").put("message", message).put("type", type);
        if (param == null) {
            inner.putNull("param");
        } else {
            inner.put("param", param);
        }
        if (code == null) {
            inner.putNull("code");
        } else {
            inner.put("code", code);
        }
        return e;
    }

    private static Reply error(HttpResponseStatus status, String message, String type, String param, String code) {
        return json(status, errorBody(message, type, param, code));
    }

    private static Reply json(HttpResponseStatus status, JsonNode body) {
        return Reply.now(status, JSON, Call.bytes(body));
    }

    /** As OpenAI echoes a wrong key: its first three and last four characters. */
    private static String mask(String key) {
        return key.length() <= 8 ? "*".repeat(key.length())
                : key.substring(0, 3) + "*".repeat(Math.min(key.length() - 7, 20)) + key.substring(key.length() - 4);
    }
}
