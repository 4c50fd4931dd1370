package io.sluice.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A provider's API reduced to the few answers Sluice's checks read, over a real socket: an OpenAI,
 * Anthropic or Gemini model list that checks the key the way that provider expects it (401/403 with the
 * provider's error body otherwise, which, as OpenAI's does, echoes the key sent), or Ollama's
 * {@code /api/version}, {@code /api/tags} and {@code /api/ps}. Records the paths it was asked for.
 */
final class ProviderStub implements AutoCloseable {
    enum Kind { OPENAI, ANTHROPIC, GEMINI, OLLAMA }

    private final HttpServer server;
    final List<String> paths = new CopyOnWriteArrayList<>();
    final Map<String, String> lastHeaders = new ConcurrentHashMap<>();

    private ProviderStub(Kind kind, String key) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "provider-stub");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", ex -> {
            try {
                paths.add(ex.getRequestURI().getPath());
                ex.getRequestHeaders().forEach((k, v) -> lastHeaders.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
                answer(kind, key, ex);
            } finally {
                ex.close();
            }
        });
        server.start();
    }

    static ProviderStub start(Kind kind, String key) throws IOException {
        return new ProviderStub(kind, key);
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void answer(Kind kind, String key, HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        var h = ex.getRequestHeaders();
        switch (kind) {
            case OPENAI -> {
                if (!path.equals("/v1/models")) {
                    send(ex, 404, "{\"error\":{\"message\":\"Unknown path\",\"type\":\"invalid_request_error\"}}");
                } else if (!("Bearer " + key).equals(h.getFirst("Authorization"))) {
                    String sent = String.valueOf(h.getFirst("Authorization")).replace("Bearer ", "");
                    // OpenAI's own 401 body (https://platform.openai.com/docs/guides/error-codes).
                    send(ex, 401, "{\"error\":{\"message\":\"Incorrect API key provided: " + sent + ". You can find your API key at "
                            + "https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,"
                            + "\"code\":\"invalid_api_key\"}}");
                } else {
                    send(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o-mini\",\"object\":\"model\",\"created\":1,\"owned_by\":\"system\"}]}");
                }
            }
            case ANTHROPIC -> {
                if (!path.equals("/v1/models")) {
                    send(ex, 404, "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"Not found\"}}");
                } else if (!key.equals(h.getFirst("x-api-key")) || h.getFirst("anthropic-version") == null) {
                    send(ex, 401, "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}");
                } else {
                    send(ex, 200, "{\"data\":[{\"id\":\"claude-sonnet-4-5\",\"type\":\"model\",\"display_name\":\"Claude\","
                            + "\"created_at\":\"2025-01-01T00:00:00Z\"}],\"has_more\":false,\"first_id\":\"claude-sonnet-4-5\",\"last_id\":\"claude-sonnet-4-5\"}");
                }
            }
            case GEMINI -> {
                if (!path.equals("/v1beta/models")) {
                    send(ex, 404, "{\"error\":{\"code\":404,\"message\":\"Not found\",\"status\":\"NOT_FOUND\"}}");
                } else if (!key.equals(h.getFirst("x-goog-api-key"))) {
                    send(ex, 400, "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\"}}");
                } else {
                    send(ex, 200, "{\"models\":[{\"name\":\"models/gemini-2.0-flash\",\"displayName\":\"Gemini 2.0 Flash\"}]}");
                }
            }
            case OLLAMA -> {
                switch (path) {
                    case "/api/version" -> send(ex, 200, "{\"version\":\"0.6.2\"}");
                    case "/api/tags" -> send(ex, 200, "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\",\"size\":2019393189},"
                            + "{\"name\":\"qwen2.5:0.5b\",\"model\":\"qwen2.5:0.5b\",\"size\":397821319}]}");
                    case "/api/ps" -> send(ex, 200, "{\"models\":[{\"name\":\"qwen2.5:0.5b\",\"model\":\"qwen2.5:0.5b\",\"size\":397821319,"
                            + "\"size_vram\":397821319,\"expires_at\":\"2099-01-01T00:00:00Z\"}]}");
                    default -> send(ex, 404, "{\"error\":\"not found\"}");
                }
            }
        }
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
