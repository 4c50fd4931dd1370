package io.sluice.admin.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.sluice.admin.AdminContext;
import io.sluice.admin.AdminHandler;
import io.sluice.admin.AdminRoutes;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.RouteConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.core.model.ModelCatalog;
import io.sluice.core.pool.BackendPool;
import io.sluice.core.exchange.FilterChain;
import io.sluice.core.exchange.RequestContext;
import io.sluice.core.route.RouteTarget;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/models} on a by-model route lists every declared model and the aliases; the models a
 * healthy backend reports (scraped over a loopback socket from a fake vLLM) are marked as vLLM's.
 */
class ModelsUnionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpServer vllm;
    private ScheduledExecutorService scheduler;
    private BackendScraper scraper;
    private List<BackendPool> pools;
    private ModelCatalog catalog;

    @BeforeEach
    void setUp() throws Exception {
        vllm = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        vllm.createContext("/metrics", x -> respond(x, ""));
        vllm.createContext("/v1/models", x -> respond(x, "{\"object\":\"list\",\"data\":[{\"id\":\"llama-3-8b\"}]}"));
        vllm.start();
        int port = vllm.getAddress().getPort();
        SluiceConfig c = ConfigLoader.parse("""
                listeners: [ { port: 8000, routes: [ { path: /v1/, by-model: true }, { path: /p/, pool: chat } ] } ]
                pools:
                  chat: { models: [llama-3-8b, llama-3-70b], backends: [ { url: "http://127.0.0.1:%d" } ] }
                  code: { models: [qwen-coder], backends: [ { url: "http://127.0.0.1:1" } ] }
                models: { aliases: { default: llama-3-8b, gpt-4o: default } }
                """.formatted(port), "t.yaml", n -> null);
        catalog = ModelCatalog.of(c);
        pools = new ArrayList<>();
        c.pools().values().forEach(pc -> pools.add(new BackendPool(pc, List.of(
                new Backend(pc.name() + "-0", pc.name(), pc.backends().get(0).host(), pc.backends().get(0).port(), 1)))));
        scheduler = Executors.newSingleThreadScheduledExecutor();
        scraper = new BackendScraper(() -> pools, scheduler, Runnable::run, Duration.ZERO);
        scraper.scrape(pools.get(0).backends().get(0)).get(10, TimeUnit.SECONDS);
    }

    private static void respond(com.sun.net.httpserver.HttpExchange x, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(200, b.length);
        x.getResponseBody().write(b);
        x.close();
    }

    @AfterEach
    void tearDown() {
        scraper.close();
        scheduler.shutdownNow();
        vllm.stop(0);
    }

    private AdminRoutes routes(ModelCatalog models) {
        AdminContext ctx = new AdminContext() {
            @Override public Collection<BackendPool> pools() { return pools; }
            @Override public List<ListenerInfo> listeners() { return List.of(); }
            @Override public long startedAtMillis() { return 1_700_000_000_000L; }
            @Override public String version() { return "test"; }
            @Override public ModelCatalog models() { return models; }
        };
        return new GpuEndpoints(ctx, new GpuProbe(""), scraper, Runnable::run).register(new AdminRoutes());
    }

    /** The response, or null when the route does not answer it (the request goes on to the proxy). */
    private static JsonNode get(AdminRoutes routes, RouteConfig route) throws Exception {
        if (routes.matchPublic(HttpMethod.GET, "/v1/models", route) == null) {
            return null;
        }
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelInboundHandlerAdapter());
        io.netty.channel.ChannelHandlerContext ctx = ch.pipeline().firstContext();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/models?x=1");
        RequestContext.Responder out = new RequestContext.Responder() {
            @Override
            public void write(RequestContext rc, Object msg, io.netty.channel.ChannelPromise promise) {
                ctx.write(msg, promise);
            }

            @Override
            public void flush() {
                ctx.flush();
            }
        };
        RequestContext rc = new RequestContext(ch, io.sluice.core.net.ClientAddress.of(ch), new FilterChain(List.of()), out,
                req, "/v1/models", "id", new io.sluice.core.observe.Exchange());
        rc.route(route);
        rc.target(RouteTarget.Admin.PUBLIC);
        new AdminHandler(routes, ctx).onRequest(rc, req);
        ch.runPendingTasks();
        FullHttpResponse r = ch.readOutbound();
        try {
            assertEquals(200, r.status().code());
            return JSON.readTree(r.content().toString(StandardCharsets.UTF_8));
        } finally {
            r.release();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void byModelRouteListsTheUnionAndAliases() throws Exception {
        JsonNode body = get(routes(catalog), new RouteConfig("/v1/", null, false, null, false, true, null, null, null));
        assertEquals("list", body.get("object").asText());
        assertEquals(JSON.readTree("""
                [ {"id":"llama-3-8b","object":"model","created":1700000000,"owned_by":"vllm"},
                  {"id":"llama-3-70b","object":"model","created":1700000000,"owned_by":"sluice"},
                  {"id":"qwen-coder","object":"model","created":1700000000,"owned_by":"sluice"},
                  {"id":"default","object":"model","created":1700000000,"owned_by":"sluice","root":"llama-3-8b","parent":"llama-3-8b"},
                  {"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"sluice","root":"llama-3-8b","parent":"llama-3-8b"} ]
                """), body.get("data"));
    }

    @Test
    void byModelRouteWithADefaultPoolStillListsTheUnion() throws Exception {
        JsonNode body = get(routes(catalog), new RouteConfig("/v1/", "code", false, null, false, true, null, null, null));
        assertEquals(5, body.get("data").size());
    }

    @Test
    void poolRoutesKeepListingWhatTheirBackendsReport() throws Exception {
        JsonNode body = get(routes(catalog), new RouteConfig("/p/", "chat", false));
        assertEquals(JSON.readTree("[{\"id\":\"llama-3-8b\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"vllm\"}]"),
                body.get("data"));
        // Nothing scraped for this pool: proxied to the backend, as before.
        assertNull(get(routes(catalog), new RouteConfig("/p/", "code", false)));
    }

    @Test
    void withoutDeclaredModelsTheRequestIsProxied() throws Exception {
        assertNull(get(routes(ModelCatalog.EMPTY), new RouteConfig("/v1/", null, false, null, false, true, null, null, null)));
        assertTrue(routes(catalog).hasPublic());
    }
}
