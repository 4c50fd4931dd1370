package io.sluice.http.route;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.sluice.core.balance.BalancePolicies;
import io.sluice.core.config.PoolConfig;
import io.sluice.core.config.RoutingConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.Json;
import java.io.IOException;
import java.util.function.Function;

/**
 * What the affinity policies key on, worked out only for requests to a pool whose policy uses it:
 * for {@code prefix-affinity} the chained hashes of the prompt's leading blocks
 * ({@link RequestContext#prefixBlocks()}), for {@code session} the session key
 * ({@link RequestContext#sessionKey()}: the pool's {@code session-header}, else the body's {@code user}).
 * Requests to other pools are not touched and their bodies stream through unread.
 *
 * <p>The prompt is rendered as a chat template puts it before the model: each of the OpenAI chat
 * completions request's {@code messages} in order (system prompt and earlier turns first) as
 * {@code role: content}, text parts of a content array joined; for completions, {@code prompt}. The
 * text is cut into {@code block-chars} blocks; only full blocks count (a backend's prefix cache holds
 * whole blocks), at most {@code prefix-blocks} of them. Block i's hash covers blocks 0..i, so equal
 * hashes mean equal prefixes. The body is read with a streaming parser (no tree) that stops once it
 * has enough text; a body that is not JSON has no prefix and no session key.
 *
 * <p>Runs after {@code ModelRouting}: a {@code by-model} route knows its pool only once the model is read.
 */
public final class AffinityKeys implements ExchangeFilter {
    private final Function<String, PoolConfig> pools;

    /** @param pools a pool's current config by name, or null */
    public AffinityKeys(Function<String, PoolConfig> pools) {
        this.pools = pools;
    }

    private PoolConfig pool(RequestContext rc) {
        String name = rc.pool();
        return name == null ? null : pools.apply(name);
    }

    private static boolean hasBody(HttpMethod m) {
        return m.equals(HttpMethod.POST) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH);
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        PoolConfig p = pool(rc);
        if (p != null && BalancePolicies.needsSession(p.balancer())) {
            sessionFromHeader(rc, p.routing());
        }
        return null;
    }

    @Override
    public boolean wantsBody(RequestContext rc) {
        PoolConfig p = pool(rc);
        if (p == null || !hasBody(rc.request().method())) {
            return false;
        }
        return BalancePolicies.needsPrefix(p.balancer())
                || BalancePolicies.needsSession(p.balancer()) && rc.sessionKey() == null;
    }

    @Override
    public FullHttpResponse onRequestBody(RequestContext rc) {
        PoolConfig p = pool(rc); // known now also on a by-model route
        ByteBuf body = rc.body();
        if (p == null || body == null) {
            return null;
        }
        RoutingConfig r = p.routing();
        if (BalancePolicies.needsPrefix(p.balancer())) {
            if (rc.prefixBlocks() == null) {
                rc.prefixBlocks(prefixBlocks(body, r.blockChars(), r.prefixBlocks()));
            }
        } else if (BalancePolicies.needsSession(p.balancer()) && rc.sessionKey() == null
                && !sessionFromHeader(rc, r)) {
            rc.sessionKey(user(body));
        }
        return null;
    }

    private static boolean sessionFromHeader(RequestContext rc, RoutingConfig r) {
        String v = r.sessionHeader() == null ? null : rc.header(r.sessionHeader());
        if (v != null && !v.isEmpty()) {
            rc.sessionKey(v);
            return true;
        }
        return false;
    }

    /** The chained hashes of the rendered prompt's first full blocks, or null (not JSON, no prompt, too short). */
    public static long[] prefixBlocks(ByteBuf body, int blockChars, int maxBlocks) {
        int want = blockChars * maxBlocks;
        StringBuilder text = new StringBuilder(Math.min(want, 4096));
        try (JsonParser p = Json.MAPPER.getFactory().createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (text.length() < want && p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("messages".equals(name) && t == JsonToken.START_ARRAY) {
                    while (text.length() < want && p.nextToken() == JsonToken.START_OBJECT) {
                        message(p, text);
                    }
                    if (text.length() < want) {
                        skipRest(p);
                    }
                } else if ("prompt".equals(name) && t == JsonToken.VALUE_STRING) {
                    text.append(p.getText());
                } else if ("prompt".equals(name) && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.VALUE_STRING) {
                        text.append(p.getText()).append('\n');
                    }
                    skipRest(p);
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // not JSON (or not as expected): no prefix, the backend answers it as it would without Sluice
        }
        return hashBlocks(text, blockChars, maxBlocks);
    }

    /** Skips to the end of the current array or object (after some of its members were read). */
    private static void skipRest(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.END_ARRAY || t == JsonToken.END_OBJECT) {
            return;
        }
        if (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT) {
            p.skipChildren();
        }
        int depth = 1;
        while (depth > 0) {
            t = p.nextToken();
            if (t == null) {
                throw new IOException("truncated");
            }
            if (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT) {
                depth++;
            } else if (t == JsonToken.END_ARRAY || t == JsonToken.END_OBJECT) {
                depth--;
            }
        }
    }

    /** One chat message as {@code role: content\n}; the parser is on its START_OBJECT and ends on its END_OBJECT. */
    private static void message(JsonParser p, StringBuilder text) throws IOException {
        String role = null;
        StringBuilder content = new StringBuilder();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if ("role".equals(name) && t == JsonToken.VALUE_STRING) {
                role = p.getText();
            } else if ("content".equals(name) && t == JsonToken.VALUE_STRING) {
                content.append(p.getText());
            } else if ("content".equals(name) && t == JsonToken.START_ARRAY) {
                // [{"type":"text","text":"…"}, {"type":"image_url",…}]: the text parts, in order
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String part = p.currentName();
                        if (p.nextToken() == JsonToken.VALUE_STRING && "text".equals(part)) {
                            content.append(p.getText());
                        } else {
                            p.skipChildren();
                        }
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        text.append(role == null ? "" : role).append(": ").append(content).append('\n');
    }

    static long[] hashBlocks(CharSequence text, int blockChars, int maxBlocks) {
        int n = Math.min(maxBlocks, text.length() / blockChars);
        if (n == 0) {
            return null;
        }
        long[] out = new long[n];
        long h = 0xcbf29ce484222325L; // FNV-1a, carried from block to block: a block's hash covers its whole prefix
        for (int b = 0; b < n; b++) {
            for (int i = b * blockChars, end = i + blockChars; i < end; i++) {
                h ^= text.charAt(i);
                h *= 0x100000001b3L;
            }
            out[b] = mix(h);
        }
        return out;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The body's top-level {@code user} (OpenAI's end-user id), or null. */
    public static String user(ByteBuf body) {
        try (JsonParser p = Json.MAPPER.getFactory().createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("user".equals(name) && t == JsonToken.VALUE_STRING) {
                    String u = p.getText();
                    return u.isEmpty() ? null : u;
                }
                p.skipChildren();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: no session key
        }
        return null;
    }
}
