package io.sluice.core.exchange;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's filters, in order, run phase by phase. Each phase keeps only the filters that override
 * it, so a phase nobody uses costs an empty loop (the content phase runs for every response chunk).
 * Immutable; a reload builds a new chain, and an exchange keeps the chain it started with.
 */
public final class FilterChain {
    private static final Logger log = LoggerFactory.getLogger(FilterChain.class);

    private final List<ExchangeFilter> all;
    private final ExchangeFilter[] head;
    private final ExchangeFilter[] admission;
    private final ExchangeFilter[] wantsBody;
    private final ExchangeFilter[] body;
    private final ExchangeFilter[] upstream;
    private final ExchangeFilter[] poolChanged;
    private final ExchangeFilter[] responseHead;
    private final ExchangeFilter[] content;
    private final ExchangeFilter[] end;

    public FilterChain(List<ExchangeFilter> filters) {
        all = List.copyOf(filters);
        head = overriding("onRequestHead", RequestContext.class);
        admission = overriding("onAdmission", RequestContext.class);
        wantsBody = overriding("wantsBody", RequestContext.class);
        body = overriding("onRequestBody", RequestContext.class);
        upstream = overriding("onUpstreamRequest", RequestContext.class, HttpRequest.class);
        poolChanged = overriding("onUpstreamPoolChanged", RequestContext.class, HttpRequest.class);
        responseHead = overriding("onResponseHead", RequestContext.class, HttpResponse.class);
        content = overriding("onResponseContent", RequestContext.class, HttpContent.class);
        end = overriding("onEnd", RequestContext.class);
    }

    public List<ExchangeFilter> filters() {
        return all;
    }

    private ExchangeFilter[] overriding(String name, Class<?>... params) {
        List<ExchangeFilter> out = new ArrayList<>();
        for (ExchangeFilter f : all) {
            try {
                Method m = f.getClass().getMethod(name, params);
                if (m.getDeclaringClass() != ExchangeFilter.class) {
                    out.add(f);
                }
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        }
        return out.toArray(new ExchangeFilter[0]);
    }

    /** @return the answer of the first filter that gave one, or null */
    public FullHttpResponse requestHead(RequestContext rc) {
        for (ExchangeFilter f : head) {
            FullHttpResponse r = f.onRequestHead(rc);
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    /**
     * The admission phase: each filter in turn, the next one only once the previous one let the request
     * through (on the exchange's event loop).
     *
     * @return null when no filter has to wait; else a stage with the first answer, or null to go on
     */
    public CompletionStage<FullHttpResponse> admission(RequestContext rc) {
        CompletionStage<FullHttpResponse> out = null;
        for (ExchangeFilter f : admission) {
            if (out == null) {
                out = f.onAdmission(rc);
            } else {
                out = out.thenComposeAsync(answer -> {
                    if (answer != null) {
                        return CompletableFuture.completedFuture(answer);
                    }
                    CompletionStage<FullHttpResponse> next = f.onAdmission(rc);
                    return next == null ? CompletableFuture.completedFuture(null) : next;
                }, rc.channel().eventLoop());
            }
        }
        return out;
    }

    public boolean wantsBody(RequestContext rc) {
        for (ExchangeFilter f : wantsBody) {
            if (f.wantsBody(rc)) {
                return true;
            }
        }
        return false;
    }

    public FullHttpResponse requestBody(RequestContext rc) {
        for (ExchangeFilter f : body) {
            FullHttpResponse r = f.onRequestBody(rc);
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    public void upstreamRequest(RequestContext rc, HttpRequest req) {
        for (ExchangeFilter f : upstream) {
            f.onUpstreamRequest(rc, req);
        }
    }

    public void upstreamPoolChanged(RequestContext rc, HttpRequest req) {
        for (ExchangeFilter f : poolChanged) {
            f.onUpstreamPoolChanged(rc, req);
        }
    }

    public void responseHead(RequestContext rc, HttpResponse resp) {
        for (ExchangeFilter f : responseHead) {
            f.onResponseHead(rc, resp);
        }
    }

    /** Whether a response content filter needs to see this request's response parts. */
    public boolean wantsResponseContent(RequestContext rc) {
        for (ExchangeFilter f : content) {
            if (f.wantsResponseContent(rc)) {
                return true;
            }
        }
        return false;
    }

    /** @return false when a filter ended the response */
    public boolean responseContent(RequestContext rc, HttpContent c) {
        boolean go = true;
        for (ExchangeFilter f : content) {
            go &= f.onResponseContent(rc, c);
        }
        return go;
    }

    /** Every filter hears of the end, even if one of them fails; the context's leftovers are released. */
    public void end(RequestContext rc) {
        for (ExchangeFilter f : end) {
            try {
                f.onEnd(rc);
            } catch (RuntimeException e) {
                log.warn("filter {} failed at the end of request {}", f, rc.requestId(), e);
            }
        }
        rc.release();
    }
}
