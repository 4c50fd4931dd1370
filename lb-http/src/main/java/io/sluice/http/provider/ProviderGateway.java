package io.sluice.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.core.config.ModelGroupConfig;
import io.sluice.core.config.ProviderConfig;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.Fallback;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.provider.AnthropicMessages;
import io.sluice.core.provider.ProviderError;
import io.sluice.core.provider.TranslationException;
import io.sluice.core.provider.Translators;
import io.sluice.core.provider.UpstreamCall;
import io.sluice.core.provider.WireFormat;
import io.sluice.core.route.RouteTarget;
import io.sluice.http.provider.ChatRelay.ClientFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The unified endpoints: {@code POST /api/chat} ({@code {provider, model, messages, stream, ...}}, answered
 * as OpenAI chat completions) and Anthropic's {@code POST /v1/messages} (answered as Anthropic messages),
 * each served by any provider. In the body phase the request is translated to the chosen provider's
 * format and sent to its pool; a {@link ChatRelay} translates the answer back. A model group becomes an
 * ordered list of attempts ({@link Fallback}), each translated for its own provider.
 *
 * <p>Also Ollama's model management on a pass-through route to an Ollama provider:
 * {@code GET <route>models} (its {@code /api/tags}) and {@code POST <route>unload {"model"}}.
 */
public final class ProviderGateway implements ExchangeFilter {
    private final Supplier<Providers> providers;

    public ProviderGateway(Supplier<Providers> providers) {
        this.providers = providers;
    }

    /** A provider model to try. */
    record Member(ProviderConfig provider, String model) {
    }

    private static ClientFormat client(RouteConfig route) {
        return RouteConfig.GATEWAY_MESSAGES.equals(route.gateway()) ? ClientFormat.ANTHROPIC : ClientFormat.OPENAI;
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        RouteConfig route = rc.route();
        if (route == null || route.gateway() == null && route.provider() == null) {
            return null;
        }
        FullHttpResponse refused = BrowserGuard.check(rc, client(route));
        if (refused != null) {
            return refused;
        }
        if (route.gateway() != null) {
            if (!rc.request().method().equals(HttpMethod.POST)) {
                FullHttpResponse r = error(rc, client(route), HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                        rc.request().method() + " is not allowed on " + rc.path() + " (allowed: POST)", null);
                r.headers().set(HttpHeaderNames.ALLOW, "POST");
                return r;
            }
            String type = rc.request().headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (type == null || !type.regionMatches(true, 0, "application/json", 0, 16)) {
                return error(rc, client(route), HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                        "the body must be JSON (Content-Type: application/json)", null);
            }
            return null;
        }
        // A pass-through route: the provider must be configured; its key is injected upstream (ProviderKeys).
        ProviderConfig p = providers.get().get(route.provider());
        if (p == null || !p.configured()) {
            return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE, "provider_not_configured",
                    p == null ? "provider '" + route.provider() + "' is not configured"
                            : "provider '" + p.name() + "' has no API key configured (providers." + p.name() + ".api-key)");
        }
        rc.set(Providers.CHOSEN, p);
        rc.exchange().provider = p.name();
        if (p.format() == WireFormat.OLLAMA && rc.path().length() > route.pathPrefix().length()) {
            String rest = rc.path().substring(route.pathPrefix().length());
            if (rest.equals("models") && rc.request().method().equals(HttpMethod.GET)) {
                rc.request().setUri(p.basePath() + "/api/tags");
                rc.relay(JsonRelay.ollamaModels(p.name()));
            }
        }
        return null;
    }

    private static boolean ollamaUnload(RequestContext rc) {
        ProviderConfig p = rc.get(Providers.CHOSEN);
        RouteConfig route = rc.route();
        return p != null && p.format() == WireFormat.OLLAMA && route.provider() != null
                && rc.path().equals(route.pathPrefix() + "unload") && rc.request().method().equals(HttpMethod.POST);
    }

    @Override
    public boolean wantsBody(RequestContext rc) {
        RouteConfig route = rc.route();
        return route != null && (route.gateway() != null || ollamaUnload(rc));
    }

    @Override
    public FullHttpResponse onRequestBody(RequestContext rc) {
        RouteConfig route = rc.route();
        if (route.gateway() == null) {
            return ollamaUnload(rc) ? unload(rc) : null;
        }
        ClientFormat client = client(route);
        JsonNode body = parse(rc.body());
        if (body == null || !body.isObject()) {
            return error(rc, client, HttpResponseStatus.BAD_REQUEST, "bad_request", "the request body must be a JSON object", null);
        }
        ObjectNode chat;
        try {
            chat = client == ClientFormat.ANTHROPIC ? AnthropicMessages.toChat(body) : ((ObjectNode) body).deepCopy();
        } catch (TranslationException e) {
            return error(rc, client, HttpResponseStatus.BAD_REQUEST, "unsupported", e.getMessage(), e.param());
        }
        String providerName = client == ClientFormat.OPENAI && chat.hasNonNull("provider") ? chat.path("provider").asText() : null;
        chat.remove("provider");
        JsonNode modelNode = chat.get("model");
        if (modelNode == null || !modelNode.isTextual() || modelNode.asText().isEmpty()) {
            return error(rc, client, HttpResponseStatus.BAD_REQUEST, "model_required", "the request names no model (\"model\")", "model");
        }
        String requested = modelNode.asText();
        Providers all = providers.get();
        List<Member> members = new ArrayList<>();
        if (providerName != null) {
            ProviderConfig p = all.get(providerName);
            if (p == null) {
                return error(rc, client, HttpResponseStatus.BAD_REQUEST, "unknown_provider", "unknown provider '" + providerName
                        + "' (providers: " + String.join(", ", all.providers().keySet()) + ")", "provider");
            }
            members.add(new Member(p, p.ownPool() ? requested
                    : java.util.Objects.requireNonNullElse(all.catalog().resolve(requested), requested)));
        } else {
            ModelGroupConfig group = all.groups().get(requested);
            int slash = requested.indexOf('/');
            if (group != null) {
                for (ModelGroupConfig.Member m : group.members()) {
                    members.add(new Member(all.get(m.provider()), m.model()));
                }
            } else if (slash > 0 && all.get(requested.substring(0, slash)) != null) {
                members.add(new Member(all.get(requested.substring(0, slash)), requested.substring(slash + 1)));
            } else {
                String real = all.catalog().resolve(requested);
                ProviderConfig p = real == null ? null : all.byPool(all.catalog().poolFor(real));
                if (p == null) {
                    return error(rc, client, client == ClientFormat.OPENAI ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.NOT_FOUND,
                            client == ClientFormat.OPENAI ? "provider_required" : "model_not_found",
                            "no provider for model '" + requested + "': name one with \"provider\", as \"<provider>/<model>\","
                                    + " or use a model group (" + String.join(", ", all.groups().keySet()) + ")", "model");
                }
                members.add(new Member(p, real));
            }
        }
        boolean stream = chat.path("stream").asBoolean(false);
        boolean includeUsage = chat.path("stream_options").path("include_usage").asBoolean(false);
        Attempts attempts = new Attempts(members, chat, client, stream, includeUsage, copy(rc.request().headers()), requested);
        int first = attempts.firstConfigured();
        if (first < 0) {
            ProviderConfig p = members.get(0).provider();
            return error(rc, client, HttpResponseStatus.SERVICE_UNAVAILABLE, "provider_not_configured",
                    members.size() == 1 ? "provider '" + p.name() + "' has no API key configured (providers." + p.name() + ".api-key)"
                            : "no member of model group '" + requested + "' is configured", null);
        }
        UpstreamCall call;
        try {
            call = attempts.translate(first);
        } catch (TranslationException e) {
            return error(rc, client, HttpResponseStatus.BAD_REQUEST, "unsupported", e.getMessage(), e.param());
        }
        attempts.index = first;
        HttpRequest head = rc.request();
        head.setMethod(HttpMethod.POST);
        head.setUri(members.get(first).provider().basePath() + call.path());
        prepareHeaders(head.headers());
        rc.body(rc.channel().alloc().buffer().writeBytes(bytes(call.body())));
        attempts.apply(rc, first);
        return null;
    }

    /** {@code POST .../unload {"model"}}: Ollama's way, a generate request with {@code keep_alive: 0} and no prompt. */
    private FullHttpResponse unload(RequestContext rc) {
        JsonNode body = parse(rc.body());
        String model = body == null ? null : body.path("model").asText(null);
        if (model == null || model.isEmpty()) {
            return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.BAD_REQUEST, "model_required",
                    "the body must be {\"model\": \"<name>\"}", "model");
        }
        ProviderConfig p = rc.get(Providers.CHOSEN);
        ObjectNode generate = Json.MAPPER.createObjectNode().put("model", model).put("keep_alive", 0);
        HttpRequest head = rc.request();
        head.setUri(p.basePath() + "/api/generate");
        prepareHeaders(head.headers());
        rc.body(rc.channel().alloc().buffer().writeBytes(bytes(generate)));
        rc.relay(JsonRelay.ollamaUnload(p.name(), model));
        return null;
    }

    private static void prepareHeaders(HttpHeaders h) {
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.remove(HttpHeaderNames.CONTENT_ENCODING);
        h.remove(HttpHeaderNames.ACCEPT_ENCODING); // the relay reads the answer: it must not come compressed
    }

    private static HttpHeaders copy(HttpHeaders h) {
        return new DefaultHttpHeaders().set(h);
    }

    static JsonNode parse(ByteBuf body) {
        if (body == null || !body.isReadable()) {
            return null;
        }
        try (ByteBufInputStream in = new ByteBufInputStream(body.duplicate())) {
            return Json.MAPPER.readTree((java.io.InputStream) in);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static byte[] bytes(JsonNode n) {
        try {
            return Json.MAPPER.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An error of the gateway's in the client's format. */
    static FullHttpResponse error(RequestContext rc, ClientFormat client, HttpResponseStatus status, String code, String message,
                                  String param) {
        if (client == ClientFormat.OPENAI) {
            return GatewayErrors.response(rc.channel().alloc(), status, code, message, param);
        }
        String json = AnthropicMessages.errorJson(new ProviderError(status.code(), message, null, null));
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, ByteBufUtil.writeUtf8(rc.channel().alloc(), json));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                .set(GatewayErrors.ERROR_HEADER, code);
        return r;
    }

    /** The members of one request, in order; moves to the next one when an attempt fails before any byte went out. */
    static final class Attempts implements Fallback {
        private final List<Member> members;
        private final ObjectNode chat;
        private final ClientFormat client;
        private final boolean stream;
        private final boolean includeUsage;
        private final HttpHeaders headers; // the client's, as received: each attempt starts from them
        private final String requested;
        int index;

        Attempts(List<Member> members, ObjectNode chat, ClientFormat client, boolean stream, boolean includeUsage,
                 HttpHeaders headers, String requested) {
            this.members = members;
            this.chat = chat;
            this.client = client;
            this.stream = stream;
            this.includeUsage = includeUsage;
            this.headers = headers;
            this.requested = requested;
        }

        int firstConfigured() {
            for (int i = 0; i < members.size(); i++) {
                if (members.get(i).provider().configured()) {
                    return i;
                }
            }
            return -1;
        }

        UpstreamCall translate(int i) {
            Member m = members.get(i);
            return Translators.request(m.provider().format(), chat, m.model());
        }

        /** Points the context at member {@code i}: its pool, its key, its relay, and what comes after it. */
        void apply(RequestContext rc, int i) {
            Member m = members.get(i);
            rc.target(new RouteTarget.Pool(m.provider().pool()));
            rc.set(Providers.CHOSEN, m.provider());
            rc.exchange().provider = m.provider().name();
            rc.model(requested, m.model());
            rc.relay(new ChatRelay(client, m.provider().format(), stream, includeUsage, m.provider().name(), m.model()));
            rc.fallback(i + 1 < members.size() ? this : null);
        }

        @Override
        public HttpRequest next(RequestContext rc, int status, String reason) {
            while (++index < members.size()) {
                Member m = members.get(index);
                if (!m.provider().configured()) {
                    continue;
                }
                UpstreamCall call;
                try {
                    call = translate(index);
                } catch (TranslationException e) {
                    continue; // this member cannot take the request; another may
                }
                byte[] body = bytes(call.body());
                HttpHeaders h = copy(headers);
                prepareHeaders(h);
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                        m.provider().basePath() + call.path(), rc.channel().alloc().buffer(body.length).writeBytes(body),
                        h, EmptyHttpHeaders.INSTANCE);
                apply(rc, index);
                return req;
            }
            return null;
        }
    }
}
