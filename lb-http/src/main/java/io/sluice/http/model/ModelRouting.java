package io.sluice.http.model;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.exchange.ExchangeFilter;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.http.GatewayErrors;
import io.sluice.core.http.Json;
import io.sluice.core.model.ModelCatalog;
import io.sluice.core.model.ModelScanner;
import io.sluice.core.route.RouteTarget;
import java.util.function.Supplier;

/**
 * Routing by the body's {@code model}, aliases, and a route's forced model: the one filter that asks
 * for the request body, and only on routes that need it (a {@code by-model} route, a route with a
 * forced model, or a route to a pool that declares models while aliases exist). The body is scanned
 * for its top-level {@code model} member without building a tree ({@link ModelScanner}); when the
 * forwarded name differs from the client's, only that string is replaced: the rest of the body is
 * passed on as the same buffers.
 *
 * <p>A body with two top-level {@code model} members is refused: Sluice and the backend could read
 * different ones.
 */
public final class ModelRouting implements ExchangeFilter {
    private final Supplier<ModelCatalog> catalogs;

    public ModelRouting(Supplier<ModelCatalog> catalogs) {
        this.catalogs = catalogs;
    }

    private static boolean hasBody(HttpMethod m) {
        return m.equals(HttpMethod.POST) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.PATCH);
    }

    @Override
    public FullHttpResponse onRequestHead(RequestContext rc) {
        RouteConfig route = rc.route();
        if (route != null && route.byModel() && rc.target() == null && !hasBody(rc.request().method())) {
            return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.BAD_REQUEST, "model_required",
                    "this route chooses its pool by the request body's model; " + rc.request().method() + " has no body", "model");
        }
        return null;
    }

    @Override
    public boolean wantsBody(RequestContext rc) {
        RouteConfig route = rc.route();
        if (route == null || route.admin() || rc.target() instanceof RouteTarget.Admin || !hasBody(rc.request().method())) {
            return false;
        }
        if (route.byModel() || route.forceModel() != null) {
            return true;
        }
        ModelCatalog catalog = catalogs.get();
        return !catalog.aliases().isEmpty() && catalog.pools().containsValue(rc.pool());
    }

    @Override
    public FullHttpResponse onRequestBody(RequestContext rc) {
        RouteConfig route = rc.route();
        ModelCatalog catalog = catalogs.get();
        ByteBuf body = rc.body();
        ModelScanner.Result scan = ModelScanner.scan(body);
        switch (scan.state()) {
            case DUPLICATE:
                return bad(rc, "the request body has more than one top-level \"model\"");
            case NOT_JSON:
                if (route.byModel() && rc.target() == null) {
                    return bad(rc, "the request body is not a JSON object, so it names no model");
                }
                return null; // not ours to judge: the backend answers as it would without Sluice
            case NOT_STRING:
                if (route.byModel() || route.forceModel() != null) {
                    return bad(rc, "the request body's \"model\" is not a string");
                }
                return null;
            default:
                break;
        }
        String requested = scan.state() == ModelScanner.State.FOUND ? scan.found().value() : null;
        String real;
        if (route.forceModel() != null) {
            real = route.forceModel();
        } else if (requested == null) {
            if (route.byModel() && rc.target() == null) {
                return bad(rc, "the request body names no model, and this route has no pool for that");
            }
            return null;
        } else {
            real = catalog.resolve(requested);
            if (real == null) {
                if (!route.byModel()) {
                    return null; // the pool's backends answer for names Sluice does not know
                }
                return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.NOT_FOUND, "model_not_found",
                        "The model `" + requested + "` does not exist. Available: " + catalog.describe(), "model");
            }
        }
        rc.model(requested, real);
        if (route.byModel()) {
            String pool = catalog.poolFor(real);
            if (pool != null) {
                rc.target(new RouteTarget.Pool(pool));
            } else if (rc.target() == null) {
                return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.NOT_FOUND, "model_not_found",
                        "The model `" + real + "` is not served by any pool. Available: " + catalog.describe(), "model");
            }
        }
        if (!real.equals(requested)) {
            rc.body(requested != null
                    ? ModelScanner.replace(rc.channel().alloc(), body, scan.found(), real)
                    : insert(rc, body, real));
        }
        return null;
    }

    /** The body with {@code "model":"<name>"} as its first member (a forced model the client did not name). */
    private static ByteBuf insert(RequestContext rc, ByteBuf body, String model) {
        int open = body.forEachByte(b -> b == ' ' || b == '\t' || b == '\r' || b == '\n');
        int close = open < 0 ? -1 : body.forEachByte(open + 1, body.writerIndex() - open - 1,
                b -> b == ' ' || b == '\t' || b == '\r' || b == '\n');
        boolean empty = close >= 0 && body.getByte(close) == '}';
        String member = "\"model\":" + Json.quote(model) + (empty ? "" : ",");
        CompositeByteBuf out = rc.channel().alloc().compositeBuffer(3);
        out.addComponent(true, body.retainedSlice(body.readerIndex(), open + 1 - body.readerIndex()));
        out.addComponent(true, ByteBufUtil.writeUtf8(rc.channel().alloc(), member));
        out.addComponent(true, body.retainedSlice(open + 1, body.writerIndex() - open - 1));
        return out;
    }

    private static FullHttpResponse bad(RequestContext rc, String message) {
        return GatewayErrors.response(rc.channel().alloc(), HttpResponseStatus.BAD_REQUEST, "bad_request", message, "model");
    }
}
