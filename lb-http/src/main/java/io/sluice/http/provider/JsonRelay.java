package io.sluice.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.exchange.ResponseRelay;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.provider.OpenAiSse;
import io.sluice.core.provider.Translators;
import io.sluice.core.provider.WireFormat;
import java.util.function.Function;

/** A small JSON answer of a provider, read whole and reshaped (Ollama's model list, an unload). */
final class JsonRelay implements ResponseRelay {
    private static final int MAX = 4 * 1024 * 1024;

    private final String provider;
    private final WireFormat format;
    private final Function<JsonNode, JsonNode> reshape;
    private CompositeByteBuf held;
    private int status;
    private String retryAfter;
    private boolean started;

    private JsonRelay(String provider, WireFormat format, Function<JsonNode, JsonNode> reshape) {
        this.provider = provider;
        this.format = format;
        this.reshape = reshape;
    }

    /** Ollama's {@code /api/tags} as {@code {"provider","models":[...]}} (each model as Ollama describes it). */
    static JsonRelay ollamaModels(String provider) {
        return new JsonRelay(provider, WireFormat.OLLAMA, tags -> {
            ObjectNode out = Json.MAPPER.createObjectNode().put("provider", provider);
            JsonNode models = tags.path("models");
            out.set("models", models.isArray() ? models : Json.MAPPER.createArrayNode());
            return out;
        });
    }

    /** The answer to an unload: Ollama answers {@code done_reason: "unload"}. */
    static JsonRelay ollamaUnload(String provider, String model) {
        return new JsonRelay(provider, WireFormat.OLLAMA, answer -> Json.MAPPER.createObjectNode()
                .put("provider", provider).put("model", model).put("unloaded", answer.path("done").asBoolean(true)));
    }

    @Override
    public void onUpstream(RequestContext rc, HttpObject msg) {
        try {
            if (msg instanceof HttpResponse resp) {
                status = resp.status().code();
                retryAfter = resp.headers().get(HttpHeaderNames.RETRY_AFTER);
                held = rc.channel().alloc().compositeBuffer();
            }
            if (msg instanceof HttpContent c && held != null) {
                if (held.readableBytes() + c.content().readableBytes() <= MAX) {
                    held.addComponent(true, c.content().retain());
                }
                if (msg instanceof LastHttpContent) {
                    end(rc);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void end(RequestContext rc) {
        byte[] bytes = ByteBufUtil.getBytes(held);
        held.release();
        held = null;
        started = true;
        if (status >= 300) {
            String json = OpenAiSse.errorJson(Translators.error(format, status, bytes, retryAfter), provider);
            rc.write(json(rc, HttpResponseStatus.valueOf(status), json));
            return;
        }
        JsonNode answer;
        try {
            answer = reshape.apply(Json.MAPPER.readTree(bytes));
        } catch (java.io.IOException | RuntimeException e) {
            rc.write(GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                    "provider '" + provider + "' answered with something that is not JSON"));
            return;
        }
        rc.write(json(rc, HttpResponseStatus.OK, answer.toString()));
    }

    private FullHttpResponse json(RequestContext rc, HttpResponseStatus s, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, s, ByteBufUtil.writeUtf8(rc.channel().alloc(), body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                .set(ChatRelay.PROVIDER_HEADER, provider);
        if (s.code() >= 300 && retryAfter != null) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        return r;
    }

    @Override
    public boolean started() {
        return started;
    }

    @Override
    public void onUpstreamFailed(RequestContext rc, String why) {
        // never started before its end: the proxy answers 502 itself
    }

    @Override
    public void release() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

}
