package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;

/**
 * Anthropic's Messages API on the client side ({@code POST /v1/messages}): its requests become OpenAI
 * chat requests, and OpenAI answers become Anthropic ones, so an Anthropic SDK reaches any provider.
 * Shapes follow Anthropic's published references: "Create a Message" (request and {@code message}),
 * "Streaming Messages" (the SSE events) and "Errors" (the error body and types).
 */
public final class AnthropicMessages {
    private AnthropicMessages() {
    }

    /**
     * Maps: {@code system} (a string, or text blocks joined with newlines) → a first {@code system} message;
     * user text and images ({@code base64} source → a {@code data:} URL, {@code url} source → the URL) →
     * {@code user} content (a string when it is one text block, else parts); assistant text → content and
     * {@code tool_use} → {@code tool_calls} (arguments: the input as a JSON string); {@code tool_result} →
     * {@code role: tool} messages (string content, or its text blocks joined with newlines), the user message's
     * text after the results → a following user message; {@code max_tokens}, {@code temperature},
     * {@code top_p}; {@code stop_sequences} → {@code stop}; {@code stream} (+ {@code stream_options.include_usage},
     * since Anthropic's stream always reports usage); custom {@code tools} → function tools ({@code strict}
     * kept); {@code tool_choice} auto/any/none/tool → auto/required/none/named function, and
     * {@code disable_parallel_tool_use} → {@code parallel_tool_calls: false}; {@code metadata.user_id} →
     * {@code user}.
     *
     * <p>Ignored, as hints without effect on the answer: {@code cache_control} (prompt caching),
     * {@code citations} on text blocks, {@code service_tier}, a tool's {@code eager_input_streaming}, and a
     * tool result's {@code is_error} (no OpenAI equivalent; its content, the error's text, is kept). A final
     * assistant message (Anthropic's prefill) is passed on as is; whether it is continued is the upstream's.
     * A missing {@code model} is left missing (routing may set it).
     *
     * <p>Refused, as Anthropic itself refuses them or as the pivot cannot express them: a missing
     * {@code messages} or {@code max_tokens}; {@code top_k}; {@code thinking}; any other top-level field
     * (container, mcp_servers, context_management, output formats, ...); roles other than user and assistant;
     * {@code document}, {@code search_result}, {@code thinking}, {@code redacted_thinking} and server tool
     * blocks, unknown block types, and blocks in the wrong role; image sources other than base64 and url
     * (e.g. {@code file}); non-text blocks in {@code system} or in a {@code tool_result}; a tool_result after
     * text or an image in the same message (Anthropic requires the results first); tools with a
     * {@code type} other than {@code custom} (server and built-in tools) or with unknown fields.
     *
     * @param messagesRequest an Anthropic Messages request (model, system, messages, max_tokens, stream, tools, ...)
     * @return the equivalent OpenAI chat completions request (model kept as given)
     * @throws TranslationException for what cannot be expressed, with the field at fault as {@code param}
     */
    public static ObjectNode toChat(JsonNode messagesRequest) {
        return AnthropicClientRequest.toChat(messagesRequest);
    }

    /**
     * An OpenAI {@code chat.completion} as an Anthropic {@code message}: id {@code msg_} + the completion's id
     * (without {@code chatcmpl-}); content a text block (if any text; a refusal counts as text) then
     * {@code tool_use} blocks; stop_reason stop→end_turn, length→max_tokens, tool_calls→tool_use,
     * content_filter→refusal (OpenAI does not say which stop sequence matched, so never {@code stop_sequence});
     * usage prompt/completion tokens → input/output tokens.
     *
     * @throws TranslationException when a tool call's arguments are not a JSON object (empty ones are
     *                              {@code {}}): Anthropic's {@code tool_use.input} must be an object, and
     *                              guessing would hand the client a call it did not get
     */
    public static ObjectNode fromCompletion(JsonNode completion) {
        return AnthropicClientResponse.fromCompletion(completion);
    }

    /**
     * Encodes OpenAI chunks as Anthropic's SSE ({@code event: message_start} ... {@code event: message_stop});
     * an error becomes {@code event: error}. A block per run of text or per tool call, in order;
     * {@code message_delta} waits for the usage chunk that follows the finish_reason (or {@link ChunkSink#done}).
     * A refusal delta is text (stop_reason {@code refusal}); reasoning deltas ({@code reasoning_content}) are not
     * forwarded, as thinking is not offered; a tool call without an id gets a made-up {@code toolu_} one.
     * Calls after the end are ignored.
     *
     * @param out receives SSE text, one or more whole events per call
     */
    public static ChunkSink encoder(String model, Consumer<String> out) {
        return new AnthropicClientStream(model, out);
    }

    /**
     * An error in Anthropic's shape: {@code {"type":"error","error":{"type":...,"message":...}}}. The type is the
     * provider's code when that already is an Anthropic type, else the status's in Anthropic's "Errors" table
     * (400 invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
     * 404 not_found_error, 409 conflict_error, 413 request_too_large, 429 rate_limit_error, 500 api_error,
     * 504 timeout_error, 529 overloaded_error; other 4xx invalid_request_error, other statuses api_error).
     */
    public static String errorJson(ProviderError e) {
        return AnthropicClientResponse.write(AnthropicClientResponse.errorBody(e));
    }
}
