package io.sluice.sim.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * Anthropic's Messages API as its reference describes it (docs.anthropic.com/en/api/messages,
 * /en/docs/build-with-claude/streaming for the event flow, /en/api/errors for the error shapes,
 * /en/api/models-list).
 *
 * <p>Streams: {@code message_start} (a message with empty content and the input usage),
 * {@code content_block_start}, {@code ping}, one {@code content_block_delta} per piece
 * ({@code text_delta}, or {@code input_json_delta} for a tool call), {@code content_block_stop},
 * {@code message_delta} (stop reason, cumulative {@code output_tokens}), {@code message_stop}; each as
 * {@code event: <type>} plus {@code data: <json>}.
 */
final class AnthropicDialect implements Dialect {
    private static final String JSON = "application/json";
    private static final String SSE = "text/event-stream; charset=utf-8";

    private final ProviderSimOptions options;

    AnthropicDialect(ProviderSimOptions options) {
        this.options = options;
    }

    @Override
    public Reply handle(Call call) {
        String key = call.header("x-api-key");
        if (key == null || key.isEmpty()) {
            return error(HttpResponseStatus.UNAUTHORIZED, "authentication_error", "x-api-key header is required");
        }
        if (!key.equals(options.apiKey())) {
            return error(HttpResponseStatus.UNAUTHORIZED, "authentication_error", "invalid x-api-key");
        }
        if (call.header("anthropic-version") == null) {
            return error(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "anthropic-version: header is required");
        }
        if (call.is("POST", "/v1/messages")) {
            return messages(call);
        }
        if (call.is("GET", "/v1/models")) {
            ArrayNode data = Call.arr();
            options.models().forEach(m -> data.add(model(m)));
            ObjectNode list = Call.obj();
            list.set("data", data);
            list.put("has_more", false).put("first_id", options.models().get(0))
                    .put("last_id", options.models().get(options.models().size() - 1));
            return json(HttpResponseStatus.OK, list);
        }
        if (call.method.equals("GET") && call.path.startsWith("/v1/models/")) {
            String id = call.path.substring("/v1/models/".length());
            if (options.models().contains(id)) {
                return json(HttpResponseStatus.OK, model(id));
            }
            return error(HttpResponseStatus.NOT_FOUND, "not_found_error", "model: " + id);
        }
        return error(HttpResponseStatus.NOT_FOUND, "not_found_error", "Not Found");
    }

    private Reply messages(Call call) {
        ObjectNode req;
        try {
            req = call.json();
        } catch (JsonProcessingException e) {
            return error(HttpResponseStatus.BAD_REQUEST, "invalid_request_error",
                    "There was an issue with your request body: the body is not valid JSON");
        }
        for (String field : List.of("model", "max_tokens", "messages")) {
            if (!req.hasNonNull(field)) {
                return error(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", field + ": Field required");
            }
        }
        String model = req.get("model").asText();
        boolean stream = req.path("stream").asBoolean(false);
        Behaviour behaviour = Behaviour.of(model);
        switch (behaviour) {
            case RATE_LIMITED:
                return error(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limit_error",
                        "This request would exceed the rate limit for your organization of 50 requests per minute. "
                                + "For details, refer to: https://docs.anthropic.com/en/api/rate-limits.")
                        .header("retry-after", "7");
            case SERVER_ERROR:
                return overloaded();
            case ERROR_MID_STREAM:
                if (!stream) {
                    return overloaded();
                }
                break;
            default:
                break;
        }
        int prompt = Call.contentWords(req.get("system"));
        for (JsonNode m : req.get("messages")) {
            prompt += Call.contentWords(m.get("content"));
        }
        Reply.Pace pace = behaviour.pace(options);
        if (behaviour == Behaviour.FAIL_MID_STREAM && !stream) {
            return Reply.abort(pace);
        }
        String id = "msg_" + Call.randomId(24);
        String requestId = "req_" + Call.randomId(24);
        boolean tool = behaviour == Behaviour.TOOL_CALL;
        String toolName = req.path("tools").path(0).path("name").asText(Behaviour.FALLBACK_TOOL);
        String toolId = "toolu_" + Call.randomId(24);
        List<String> pieces = tool ? Behaviour.TOOL_ARGUMENT_PIECES : behaviour.pieces(options.reply());
        String stopReason = tool ? "tool_use" : "end_turn";
        if (!stream) {
            ObjectNode body = message(id, model);
            ObjectNode block = body.putArray("content").addObject();
            if (tool) {
                block.put("type", "tool_use").put("id", toolId).put("name", toolName);
                block.putObject("input").put("city", "Paris").put("unit", "celsius");
            } else {
                block.put("type", "text").put("text", String.join("", pieces));
            }
            body.put("stop_reason", stopReason).putNull("stop_sequence");
            body.set("usage", usage(prompt, pieces.size()));
            return Reply.generated(JSON, Call.bytes(body), pace, pieces.size()).header("request-id", requestId);
        }
        List<Reply.Event> events = new ArrayList<>();
        ObjectNode start = message(id, model);
        start.putArray("content");
        start.putNull("stop_reason").putNull("stop_sequence");
        start.set("usage", usage(prompt, 1));
        ObjectNode messageStart = Call.obj().put("type", "message_start");
        messageStart.set("message", start);
        events.add(event(messageStart, false));
        ObjectNode blockStart = Call.obj().put("type", "content_block_start").put("index", 0);
        ObjectNode block = blockStart.putObject("content_block");
        if (tool) {
            block.put("type", "tool_use").put("id", toolId).put("name", toolName).putObject("input");
        } else {
            block.put("type", "text").put("text", "");
        }
        events.add(event(blockStart, false));
        events.add(event(Call.obj().put("type", "ping"), false));
        for (int i = 0; i < pieces.size(); i++) {
            if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.FAIL_MID_STREAM) {
                return Reply.stream(SSE, events, Reply.Ending.ABORT, pace).header("request-id", requestId);
            }
            if (i == Behaviour.EVENTS_BEFORE_FAILURE && behaviour == Behaviour.ERROR_MID_STREAM) {
                ObjectNode err = Call.obj().put("type", "error");
                err.putObject("error").put("type", "overloaded_error").put("message", "Overloaded");
                events.add(event(err, true));
                return Reply.stream(SSE, events, Reply.Ending.ERROR, pace).header("request-id", requestId);
            }
            ObjectNode delta = Call.obj().put("type", "content_block_delta").put("index", 0);
            if (tool) {
                delta.putObject("delta").put("type", "input_json_delta").put("partial_json", pieces.get(i));
            } else {
                delta.putObject("delta").put("type", "text_delta").put("text", pieces.get(i));
            }
            events.add(event(delta, true));
        }
        events.add(event(Call.obj().put("type", "content_block_stop").put("index", 0), false));
        ObjectNode messageDelta = Call.obj().put("type", "message_delta");
        messageDelta.putObject("delta").put("stop_reason", stopReason).putNull("stop_sequence");
        messageDelta.putObject("usage").put("output_tokens", pieces.size());
        events.add(event(messageDelta, false));
        events.add(event(Call.obj().put("type", "message_stop"), false));
        return Reply.stream(SSE, events, Reply.Ending.COMPLETE, pace).header("request-id", requestId);
    }

    private static ObjectNode message(String id, String model) {
        return Call.obj().put("id", id).put("type", "message").put("role", "assistant").put("model", model);
    }

    private static ObjectNode usage(int input, int output) {
        return Call.obj().put("input_tokens", input).put("cache_creation_input_tokens", 0)
                .put("cache_read_input_tokens", 0).put("output_tokens", output);
    }

    private static ObjectNode model(String id) {
        return Call.obj().put("type", "model").put("id", id).put("display_name", id)
                .put("created_at", "2025-09-29T00:00:00Z");
    }

    private static Reply.Event event(ObjectNode data, boolean token) {
        return new Reply.Event(Call.utf8("event: " + data.get("type").asText() + "\ndata: " + Call.text(data) + "\n\n"),
                token);
    }

    private static Reply overloaded() {
        return error(HttpResponseStatus.valueOf(529, "Overloaded"), "overloaded_error", "Overloaded");
    }

    /** {@code {"type":"error","error":{"type":…,"message":…},"request_id":…}}, as the errors page shows. */
    private static Reply error(HttpResponseStatus status, String type, String message) {
        String requestId = "req_" + Call.randomId(24);
        ObjectNode body = Call.obj().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        body.put("request_id", requestId);
        return json(status, body).header("request-id", requestId);
    }

    private static Reply json(HttpResponseStatus status, JsonNode body) {
        return Reply.now(status, JSON, Call.bytes(body));
    }
}
