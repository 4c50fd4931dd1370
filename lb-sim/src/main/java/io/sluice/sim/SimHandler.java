package io.sluice.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes one connection's requests the way vLLM's FastAPI app does. Requests are served one at a time;
 * pipelined ones wait their turn, without pausing reads, so a client that disconnects is noticed at once.
 */
final class SimHandler extends ChannelInboundHandlerAdapter {
    static final String JSON = "application/json";
    private static final String CHAT = "/v1/chat/completions";
    private static final String COMPLETIONS = "/v1/completions";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(SimHandler.class);

    private final VllmSimulator sim;
    private final ArrayDeque<FullHttpRequest> pending = new ArrayDeque<>();
    private Generation current;
    /** Nothing more will be answered here: hung, refused or closing. */
    private boolean parked;

    SimHandler(VllmSimulator sim) {
        this.sim = sim;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.add((FullHttpRequest) msg);
        drain(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        parked = true;
        for (FullHttpRequest r; (r = pending.poll()) != null; ) {
            r.release();
        }
        if (current != null) {
            current.abort(ctx.channel().hasAttr(VllmSimulator.SERVER_CLOSED));
            current = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null && ctx.channel().isWritable()) {
            current.resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("closing {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** A generation completed and its last write is queued. */
    void finished(ChannelHandlerContext ctx, Generation g, ChannelFuture last) {
        current = null;
        if (g.keepAlive) {
            drain(ctx);
        } else {
            parked = true;
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void drain(ChannelHandlerContext ctx) {
        while (current == null && !parked && !pending.isEmpty()) {
            FullHttpRequest req = pending.poll();
            try {
                dispatch(ctx, req);
            } finally {
                req.release();
            }
        }
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!keepAlive) {
            parked = true; // whatever we answer is the last thing on this connection
        }
        if (!req.decoderResult().isSuccess()) {
            parked = true;
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "Invalid HTTP request received.",
                    false);
            return;
        }
        String uri = req.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (path.equals(CHAT) || path.equals(COMPLETIONS)) {
            sim.countRequest();
        }
        switch (sim.failureMode()) {
            case HANG:
                parked = true;
                return;
            case REFUSE: // accepted just before the listener closed
                parked = true;
                ctx.close();
                return;
            case ERROR_500:
                if (!path.equals("/health")) {
                    error(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "EngineCore encountered an issue.",
                            "InternalServerError", null, keepAlive);
                    return;
                }
                break;
            default:
                break;
        }
        HttpMethod method = req.method();
        switch (path) {
            case "/health":
                if (allowed(ctx, method, HttpMethod.GET, keepAlive)) {
                    respond(ctx, HttpResponseStatus.OK, null, "", keepAlive);
                }
                break;
            case "/v1/models":
                if (allowed(ctx, method, HttpMethod.GET, keepAlive)) {
                    respond(ctx, HttpResponseStatus.OK, JSON,
                            Wire.models(sim.options().models(), sim.options().maxModelLen()), keepAlive);
                }
                break;
            case "/metrics":
                if (allowed(ctx, method, HttpMethod.GET, keepAlive)) {
                    respond(ctx, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", sim.metricsText(),
                            keepAlive);
                }
                break;
            case CHAT:
            case COMPLETIONS:
                if (allowed(ctx, method, HttpMethod.POST, keepAlive)) {
                    generate(ctx, req, path.equals(CHAT), keepAlive);
                }
                break;
            default:
                respond(ctx, HttpResponseStatus.NOT_FOUND, JSON, Wire.detail("Not Found"), keepAlive);
        }
    }

    private static boolean allowed(ChannelHandlerContext ctx, HttpMethod method, HttpMethod expected,
                                   boolean keepAlive) {
        if (method.equals(expected)) {
            return true;
        }
        FullHttpResponse r = response(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, JSON,
                Wire.detail("Method Not Allowed"), keepAlive);
        r.headers().set(HttpHeaderNames.ALLOW, expected.name());
        send(ctx, r, keepAlive);
        return false;
    }

    /** Validates like vLLM (request model first, then serving checks), then admits a generation. */
    private void generate(ChannelHandlerContext ctx, FullHttpRequest req, boolean chat, boolean keepAlive) {
        String media = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        int semi = media.indexOf(';');
        media = (semi < 0 ? media : media.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        if (!media.equals(JSON)) {
            invalid(ctx, "Unsupported Media Type: Only 'application/json' is allowed", null, keepAlive);
            return;
        }
        JsonNode body;
        try (InputStream in = new ByteBufInputStream(req.content())) {
            body = MAPPER.readTree(in);
        } catch (IOException e) {
            invalid(ctx, "JSON decode error", null, keepAlive);
            return;
        }
        if (body == null || !body.isObject()) {
            invalid(ctx, "Input should be a valid dictionary or object to extract fields from", null, keepAlive);
            return;
        }
        boolean stream = body.path("stream").asBoolean(false);
        if (!stream && sim.failureMode() == FailureMode.RESET_MID_STREAM) {
            reset(ctx.channel());
            return;
        }
        int promptTokens;
        Prompt prompt;
        if (chat) {
            JsonNode messages = body.get("messages");
            if (messages == null || !messages.isArray()) {
                invalid(ctx, messages == null ? "messages: Field required" : "messages: Input should be a valid list",
                        null, keepAlive);
                return;
            }
            promptTokens = chatPromptTokens(messages);
            prompt = Prompt.ofChat(messages);
        } else {
            promptTokens = textPromptTokens(body.get("prompt"));
            if (promptTokens < 0) {
                invalid(ctx, "Value error, Either prompt or prompt_embeds must be provided and non-empty.", null,
                        keepAlive);
                return;
            }
            prompt = Prompt.ofText(body.get("prompt"));
        }
        JsonNode streamOptions = body.get("stream_options");
        if (!stream && streamOptions != null && streamOptions.size() > 0) {
            invalid(ctx, "Value error, Stream options can only be defined when `stream=True`. "
                    + "(parameter=stream_options)", "stream_options", keepAlive);
            return;
        }
        // StreamOptions.include_usage defaults to true once stream_options is present.
        boolean includeUsage = stream && streamOptions != null && streamOptions.isObject()
                && (!streamOptions.has("include_usage") || streamOptions.get("include_usage").asBoolean(false));
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && !sim.serves(model.asText())) {
            error(ctx, HttpResponseStatus.NOT_FOUND, "The model `" + model.asText() + "` does not exist.",
                    "NotFoundError", "model", keepAlive);
            return;
        }
        JsonNode maxTokens = chat && !body.path("max_completion_tokens").isMissingNode()
                && !body.get("max_completion_tokens").isNull() ? body.get("max_completion_tokens") : body.get("max_tokens");
        Integer requested = null;
        if (maxTokens != null && !maxTokens.isNull()) {
            if (!maxTokens.isIntegralNumber() || !maxTokens.canConvertToInt()) {
                invalid(ctx, "max_tokens: Input should be a valid integer", null, keepAlive);
                return;
            }
            requested = maxTokens.intValue();
        }
        int maxLen = sim.options().maxModelLen();
        if (promptTokens >= maxLen) {
            badRequest(ctx, "This model's maximum context length is " + maxLen + " tokens. However, your request has "
                    + promptTokens + " input tokens. Please reduce the length of the input messages. "
                    + "(parameter=input_tokens, value=" + promptTokens + ")", "input_tokens", keepAlive);
            return;
        }
        if (requested != null && promptTokens + requested > maxLen) {
            badRequest(ctx, "'max_tokens' or 'max_completion_tokens' is too large: " + requested
                    + ". This model's maximum context length is " + maxLen + " tokens and your request has "
                    + promptTokens + " input tokens (" + requested + " > " + maxLen + " - " + promptTokens
                    + "). (parameter=max_tokens, value=" + requested + ")", "max_tokens", keepAlive);
            return;
        }
        if (requested != null && requested < 1) {
            badRequest(ctx, "max_tokens must be at least 1, got " + requested + ".", null, keepAlive);
            return;
        }
        int natural = sim.options().maxTokens();
        boolean length = requested != null && requested <= natural;
        int total = length ? requested : natural;
        if (!length && total > maxLen - promptTokens) { // runs into the context window
            total = maxLen - promptTokens;
            length = true;
        }
        String requestId = req.headers().get("X-Request-Id");
        String id = (chat ? "chatcmpl-" : "cmpl-") + (requestId != null ? requestId : Wire.hexId());
        if (stream) { // vLLM's StreamingResponse sends headers before the request is even scheduled
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            if (!keepAlive) {
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.writeAndFlush(head, ctx.voidPromise());
        }
        current = new Generation(sim, this, ctx, chat, stream, includeUsage, keepAlive,
                stream && sim.failureMode() == FailureMode.RESET_MID_STREAM, promptTokens, total, length, id,
                sim.options().models().get(0), prompt);
        sim.submit(current);
    }

    /**
     * FastAPI request-validation failures, which vLLM maps to 400 with the HTTP reason as type. The
     * envelope is exact; the message only approximates pydantic's wording.
     */
    private static void invalid(ChannelHandlerContext ctx, String message, String param, boolean keepAlive) {
        error(ctx, HttpResponseStatus.BAD_REQUEST, message, "Bad Request", param, keepAlive);
    }

    /** Errors raised by vLLM's serving layer. */
    private static void badRequest(ChannelHandlerContext ctx, String message, String param, boolean keepAlive) {
        error(ctx, HttpResponseStatus.BAD_REQUEST, message, "BadRequestError", param, keepAlive);
    }

    private static void error(ChannelHandlerContext ctx, HttpResponseStatus status, String message, String type,
                              String param, boolean keepAlive) {
        respond(ctx, status, JSON, Wire.error(message, type, param, status.code()), keepAlive);
    }

    static ChannelFuture respond(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType,
                                 String body, boolean keepAlive) {
        return send(ctx, response(ctx, status, contentType, body, keepAlive), keepAlive);
    }

    private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType,
                                             String body, boolean keepAlive) {
        ByteBuf buf = ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
        if (contentType != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    private static ChannelFuture send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        return f;
    }

    /** Abortive close: SO_LINGER 0 makes the kernel send RST and drop anything unsent. */
    static void reset(Channel ch) {
        ch.attr(VllmSimulator.SERVER_CLOSED).set(Boolean.TRUE);
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
        ch.close();
    }

    /** A rough, deterministic stand-in for tokenizing: whitespace-separated words of every text part. */
    static int chatPromptTokens(JsonNode messages) {
        int n = 0;
        for (JsonNode m : messages) {
            JsonNode content = m.get("content");
            if (content == null) {
                continue;
            }
            if (content.isTextual()) {
                n += words(content.asText());
            } else if (content.isArray()) {
                for (JsonNode part : content) {
                    n += words(part.path("text").asText(""));
                }
            }
        }
        return Math.max(1, n);
    }

    /** Words of a string prompt, or the length of token-id prompts; -1 when the prompt is missing or empty. */
    static int textPromptTokens(JsonNode prompt) {
        if (prompt == null || prompt.isNull() || (prompt.isTextual() && prompt.asText().isEmpty())
                || (prompt.isArray() && prompt.isEmpty())) {
            return -1;
        }
        if (!prompt.isArray()) {
            return Math.max(1, words(prompt.asText()));
        }
        int n = 0;
        for (JsonNode p : prompt) {
            n += p.isNumber() ? 1 : p.isArray() ? p.size() : words(p.asText());
        }
        return Math.max(1, n);
    }

    private static int words(String s) {
        int n = 0;
        boolean in = false;
        for (int i = 0; i < s.length(); i++) {
            boolean space = Character.isWhitespace(s.charAt(i));
            if (!space && !in) {
                n++;
            }
            in = !space;
        }
        return n;
    }
}
