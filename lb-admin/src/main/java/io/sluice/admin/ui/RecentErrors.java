package io.sluice.admin.ui;

import io.sluice.core.observe.Exchange;
import io.sluice.core.observe.ExchangeObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last {@link #CAPACITY} exchanges that went wrong, for the dashboard ({@code GET /api/v1/errors}):
 * Sluice answered with an error of its own ({@code X-Sluice-Error}), the upstream answered 5xx, or the
 * upstream cut a response off. Only when, status, code, method, route prefix, pool and backend are
 * kept: never a path, query, header, body or key.
 */
public final class RecentErrors implements ExchangeObserver {
    public static final int CAPACITY = 50;

    /** One error as the dashboard shows it. */
    public record Entry(long atMillis, int status, String code, String method, String route, String pool, String backend) {
    }

    private final Entry[] ring = new Entry[CAPACITY];
    private int next;
    private long total;

    @Override
    public void onExchangeEnd(Exchange ex) {
        boolean upstreamCut = ex.outcome == Exchange.Outcome.UPSTREAM_ABORTED;
        if (ex.gatewayError == null && ex.status < 500 && !upstreamCut) {
            return;
        }
        String code = ex.gatewayError != null ? ex.gatewayError : upstreamCut ? "upstream_aborted" : "upstream_" + ex.status;
        Entry e = new Entry(ex.startMillis, ex.status, code, ex.method, ex.route, ex.pool, ex.backend);
        synchronized (this) {
            ring[next] = e;
            next = (next + 1) % CAPACITY;
            total++;
        }
    }

    /** Newest first. */
    public synchronized List<Entry> entries() {
        List<Entry> out = new ArrayList<>(CAPACITY);
        for (int i = 1; i <= CAPACITY; i++) {
            Entry e = ring[(next - i + CAPACITY) % CAPACITY];
            if (e == null) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    public synchronized long total() {
        return total;
    }

    Map<String, Object> json() {
        List<Object> list = new ArrayList<>();
        for (Entry e : entries()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", Instant.ofEpochMilli(e.atMillis()).toString());
            m.put("status", e.status());
            m.put("code", e.code());
            m.put("method", e.method());
            m.put("route", e.route());
            m.put("pool", e.pool());
            m.put("backend", e.backend());
            list.add(m);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("errors_total", total());
        body.put("capacity", CAPACITY);
        body.put("errors", list);
        return body;
    }
}
