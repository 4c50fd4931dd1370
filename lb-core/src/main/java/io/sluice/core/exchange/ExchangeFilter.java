package io.sluice.core.exchange;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.CompletionStage;

/**
 * A feature that plugs into the phases of every exchange, in the spirit of Envoy's HTTP filters and
 * Pingora's {@code ProxyHttp}, but synchronous: every method runs on the exchange's event loop and
 * must not block. Filters are shared by all connections of a listener; per-request state goes into
 * the {@link RequestContext} under a {@link StateKey}.
 *
 * <p>The phases, in order (a filter overrides only those it needs; the chain skips the rest):
 * <ol>
 *   <li>{@link #onRequestHead}: the head has arrived; may answer instead (a refusal, a preflight).</li>
 *   <li>{@link #onAdmission}: a decision that needs something outside this process (a rate-limit
 *       store shared by replicas); the exchange waits for it without blocking its loop.</li>
 *   <li>{@link #onRequestBody}: only if some filter {@link #wantsBody wants the body}: the whole body
 *       is in {@link RequestContext#body()}; may replace it, choose the target, or answer. Without
 *       such a filter the body streams through unbuffered.</li>
 *   <li>choose upstream: the pool's {@code BalancePolicy}, which sees the context.</li>
 *   <li>{@link #onUpstreamRequest}: the head about to be sent upstream (rewrites, header rules).</li>
 *   <li>{@link #onResponseHead}: the response head towards the client, also for Sluice's own answers.</li>
 *   <li>{@link #onResponseContent}: each response part (metering); may end the response.</li>
 *   <li>{@link #onEnd}: the exchange is over, however it ended.</li>
 * </ol>
 */
public interface ExchangeFilter {

    /** @return null to go on, or the response to answer with (the request's body is then dropped) */
    default FullHttpResponse onRequestHead(RequestContext rc) {
        return null;
    }

    /**
     * After every filter's head phase, the one phase that may wait: the exchange reads nothing more of
     * the request (what arrives is held) until the stage completes, then answers or goes on, on its
     * event loop. A filter that need not wait returns null, or a completed stage, and costs nothing more.
     *
     * @return null to go on at once, or a stage completing with null (go on) or the answer; the stage
     *         may complete on any thread, and should not fail (a failure answers 503)
     */
    default CompletionStage<FullHttpResponse> onAdmission(RequestContext rc) {
        return null;
    }

    /** True when this request's whole body must be read before the upstream is chosen. */
    default boolean wantsBody(RequestContext rc) {
        return false;
    }

    /** @return null to go on, or the response to answer with */
    default FullHttpResponse onRequestBody(RequestContext rc) {
        return null;
    }

    /** @param upstream the head as it will be sent (already stripped of hop-by-hop headers) */
    default void onUpstreamRequest(RequestContext rc, HttpRequest upstream) {
    }

    /**
     * The request, its upstream head already prepared, now goes to another pool ({@link RequestContext#pool()}):
     * a queue's {@code spill-to}. Nothing was sent yet; a filter whose upstream work depends on the pool redoes it.
     */
    default void onUpstreamPoolChanged(RequestContext rc, HttpRequest upstream) {
    }

    default void onResponseHead(RequestContext rc, HttpResponse response) {
    }

    /**
     * @return false to end the response here: the part is still sent, then the event given to
     *         {@link RequestContext#stopResponseWith}, and the exchange is aborted
     */
    default boolean onResponseContent(RequestContext rc, HttpContent content) {
        return true;
    }

    /**
     * Whether {@link #onResponseContent} needs to see this request's response (asked once, at the
     * response head, of filters that override it): when none does, the body may pass through as the
     * upstream framed it, never decoded into parts.
     */
    default boolean wantsResponseContent(RequestContext rc) {
        return true;
    }

    default void onEnd(RequestContext rc) {
    }
}
