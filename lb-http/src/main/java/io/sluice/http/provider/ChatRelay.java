package io.sluice.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.exchange.ResponseRelay;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.provider.AnthropicMessages;
import io.sluice.core.provider.ChunkSink;
import io.sluice.core.provider.OpenAiSse;
import io.sluice.core.provider.ProviderError;
import io.sluice.core.provider.StreamDecoder;
import io.sluice.core.provider.Translators;
import io.sluice.core.provider.Usage;
import io.sluice.core.provider.WireFormat;
import java.io.IOException;

/**
 * Turns a provider's answer into the client's format as it arrives: a stream event by event (the
 * provider's SSE or NDJSON decoded into OpenAI chunks, encoded as OpenAI's or Anthropic's SSE, each
 * upstream read sent on at once), a whole answer once complete, an error in one normalised shape with
 * the provider's status and {@code Retry-After}. Runs on the exchange's event loop.
 */
final class ChatRelay implements ResponseRelay {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ChatRelay.class);
    static final AsciiString PROVIDER_HEADER = AsciiString.cached("x-sluice-provider");
    /** A whole answer or an error body larger than this is not an LLM answer worth holding. */
    private static final int MAX_WHOLE = 16 * 1024 * 1024;
    private static final int MAX_ERROR = 64 * 1024;

    /** The client's format: OpenAI's chat completions or Anthropic's messages. */
    enum ClientFormat { OPENAI, ANTHROPIC }

    private final ClientFormat client;
    private final WireFormat upstream;
    private final boolean stream;
    private final boolean includeUsage;
    private final String provider;
    private final String model;

    private boolean started;
    private boolean ended;
    private int status;
    private String retryAfter;
    private CompositeByteBuf held;       // a whole answer or an error body, until its end
    private StreamDecoder decoder;
    private final StringBuilder out = new StringBuilder(256);
    private long chunks;
    private boolean failed;              // the stream ended with an error event
    private boolean lastWritten;         // the client's stream got its end
    private RequestContext streaming;    // set while a stream is relayed: a cut-off one still reports its usage

    ChatRelay(ClientFormat client, WireFormat upstream, boolean stream, boolean includeUsage, String provider, String model) {
        this.client = client;
        this.upstream = upstream;
        this.stream = stream;
        this.includeUsage = includeUsage;
        this.provider = provider;
        this.model = model;
    }

    @Override
    public boolean started() {
        return started;
    }

    @Override
    public void onUpstream(RequestContext rc, HttpObject msg) {
        try {
            if (msg instanceof HttpResponse resp) {
                head(rc, resp);
            }
            if (msg instanceof HttpContent content) {
                content(rc, content.content());
                if (msg instanceof LastHttpContent) {
                    end(rc);
                }
            }
        } catch (RuntimeException e) {
            // An answer the translators cannot make sense of (a tool call's arguments that are not JSON, ...):
            // the client gets an error in its format, never a half-written response or a dead exchange.
            log.warn("provider {}: cannot translate the answer: {}", provider, e.toString());
            translationFailed(rc, e.getMessage());
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (msg instanceof LastHttpContent && decoder != null && !lastWritten) {
            lastWritten = true;
            rc.write(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    private void translationFailed(RequestContext rc, String why) {
        if (ended && (decoder == null || lastWritten)) {
            return;
        }
        ended = true;
        ProviderError e = new ProviderError(502, "provider '" + provider + "' sent an answer Sluice cannot translate: " + why,
                "upstream_bad_response", null);
        if (decoder == null) {
            if (held != null) {
                held.release();
                held = null;
            }
            if (!started) {
                rc.write(error(rc, HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response", e.message()));
            }
            return;
        }
        out.setLength(0);
        errorEncoder().error(e);
        send(rc);
    }

    private void head(RequestContext rc, HttpResponse resp) {
        status = resp.status().code();
        retryAfter = resp.headers().get(HttpHeaderNames.RETRY_AFTER);
        if (status >= 300 || !stream) {
            held = rc.channel().alloc().compositeBuffer();
            return;
        }
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(PROVIDER_HEADER, provider);
        HttpUtil.setTransferEncodingChunked(head, true);
        started = true;
        streaming = rc;
        ChunkSink encoder = client == ClientFormat.OPENAI
                ? OpenAiSse.encoder(includeUsage, provider, out::append)
                : AnthropicMessages.encoder(model, out::append);
        decoder = Translators.streamDecoder(upstream, model, new ChunkSink() {
            @Override
            public void chunk(ObjectNode chunk) {
                chunks++;
                encoder.chunk(chunk);
            }

            @Override
            public void done() {
                encoder.done();
            }

            @Override
            public void error(ProviderError error) {
                failed = true;
                encoder.error(error);
            }
        });
        rc.write(head);
    }

    private void content(RequestContext rc, ByteBuf bytes) {
        if (!bytes.isReadable() || ended) {
            return;
        }
        if (decoder != null) {
            decoder.feed(bytes);
            send(rc);
            return;
        }
        int limit = status >= 300 ? MAX_ERROR : MAX_WHOLE;
        if (held.readableBytes() + bytes.readableBytes() > limit) {
            if (status >= 300) {
                return; // an error's first 64 KiB say what it is
            }
            ended = true;
            held.release();
            held = null;
            rc.writeAndFlush(error(rc, HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                    "provider '" + provider + "' sent an answer larger than " + (MAX_WHOLE >> 20) + " MiB"));
            return;
        }
        held.addComponent(true, bytes.retain());
    }

    private void end(RequestContext rc) {
        if (ended) {
            return;
        }
        ended = true;
        if (decoder != null) {
            decoder.end();
            send(rc);
            usage(rc, decoder.usage()); // before the end: the access log is written when the response ends
            lastWritten = true;
            rc.write(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        ByteBuf body = held;
        held = null;
        try {
            if (status >= 300) {
                byte[] bytes = ByteBufUtil.getBytes(body);
                ProviderError e = Translators.error(upstream, status, bytes, retryAfter);
                rc.write(errorResponse(rc, e));
                return;
            }
            JsonNode json;
            try (ByteBufInputStream in = new ByteBufInputStream(body.duplicate())) {
                json = Json.MAPPER.readTree((java.io.InputStream) in);
            } catch (IOException | RuntimeException e) {
                json = null;
            }
            if (json == null || !json.isObject()) {
                rc.write(error(rc, HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                        "provider '" + provider + "' answered with something that is not a JSON object"));
                return;
            }
            ObjectNode completion;
            try {
                completion = Translators.completion(upstream, json, model);
            } catch (RuntimeException e) {
                rc.write(error(rc, HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                        "provider '" + provider + "' answered in a shape Sluice cannot read: " + e.getMessage()));
                return;
            }
            usage(rc, Translators.usage(completion));
            JsonNode answer;
            try {
                answer = client == ClientFormat.OPENAI ? completion : AnthropicMessages.fromCompletion(completion);
            } catch (RuntimeException e) {
                rc.write(error(rc, HttpResponseStatus.BAD_GATEWAY, "upstream_bad_response",
                        "provider '" + provider + "' answered in a shape Sluice cannot translate: " + e.getMessage()));
                return;
            }
            byte[] bytes = Json.MAPPER.writeValueAsBytes(answer);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    rc.channel().alloc().buffer(bytes.length).writeBytes(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                    .set(PROVIDER_HEADER, provider);
            started = true;
            rc.write(r);
        } catch (IOException e) {
            rc.write(error(rc, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal_error", e.getMessage()));
        } finally {
            body.release();
        }
    }

    private void send(RequestContext rc) {
        if (out.length() > 0) {
            rc.write(new DefaultHttpContent(ByteBufUtil.writeUtf8(rc.channel().alloc(), out)));
            out.setLength(0);
        }
    }

    private void usage(RequestContext rc, Usage u) {
        if (u != null) {
            rc.exchange().promptTokens = u.promptTokens();
            rc.exchange().completionTokens = u.completionTokens();
        } else if (chunks > 0) {
            rc.exchange().completionTokens = chunks; // no usage reported: what was seen
        }
    }

    @Override
    public void onUpstreamFailed(RequestContext rc, String why) {
        if (decoder == null || ended) {
            return;
        }
        ended = true;
        // Through the decoder's sink, so the client sees its format's error event and no end marker.
        ProviderError e = new ProviderError(502, "provider '" + provider + "': " + why, "upstream_reset", null);
        out.setLength(0);
        if (!failed) {
            errorEncoder().error(e);
        }
        send(rc);
        usage(rc, decoder.usage());
    }

    /** Set once the head created one; errors after that go through the same encoder. */
    private ChunkSink errorEncoder() {
        return new ChunkSink() {
            @Override
            public void chunk(ObjectNode chunk) {
            }

            @Override
            public void done() {
            }

            @Override
            public void error(ProviderError error) {
                out.append(client == ClientFormat.OPENAI
                        ? "data: " + OpenAiSse.errorJson(error, provider) + "\n\n"
                        : "event: error\ndata: " + AnthropicMessages.errorJson(error) + "\n\n");
            }
        };
    }

    private FullHttpResponse errorResponse(RequestContext rc, ProviderError e) {
        String json = client == ClientFormat.OPENAI ? OpenAiSse.errorJson(e, provider) : AnthropicMessages.errorJson(e);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                ByteBufUtil.writeUtf8(rc.channel().alloc(), json));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                .set(PROVIDER_HEADER, provider);
        if (e.retryAfter() != null) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, e.retryAfter());
        }
        started = true;
        return r;
    }

    /** An error of Sluice's own about this provider's answer, in the client's format. */
    private FullHttpResponse error(RequestContext rc, HttpResponseStatus s, String code, String message) {
        started = true;
        FullHttpResponse r = ProviderGateway.error(rc, client, s, code, message, null);
        r.headers().set(PROVIDER_HEADER, provider);
        return r;
    }

    @Override
    public void release() {
        if (streaming != null && !ended) {
            ended = true;
            usage(streaming, decoder.usage()); // the client left mid-stream: what it was sent still counts
        }
        streaming = null;
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
