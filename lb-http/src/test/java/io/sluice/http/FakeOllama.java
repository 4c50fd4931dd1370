package io.sluice.http;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Stands in for {@code ollama serve} in a process of its own: listens on {@code OLLAMA_HOST} (as Ollama
 * does) and answers {@code /api/version}, {@code /api/tags} and {@code /api/ps}. Refuses to start without
 * {@code serve} or {@code OLLAMA_HOST}, so a test sees whether Sluice passed them.
 */
public final class FakeOllama {
    private FakeOllama() {
    }

    public static void main(String[] args) throws Exception {
        String host = System.getenv("OLLAMA_HOST");
        if (args.length != 1 || !args[0].equals("serve") || host == null) {
            System.out.println("usage: ollama serve, with OLLAMA_HOST set (args " + String.join(" ", args) + ", OLLAMA_HOST " + host + ")");
            System.exit(2);
        }
        int colon = host.lastIndexOf(':');
        HttpServer server = HttpServer.create(new InetSocketAddress(host.substring(0, colon), Integer.parseInt(host.substring(colon + 1))), 16);
        server.createContext("/", ex -> {
            String body = switch (ex.getRequestURI().getPath()) {
                case "/api/version" -> "{\"version\":\"0.0.0-fake\"}";
                case "/api/tags" -> "{\"models\":[{\"name\":\"fake:latest\",\"model\":\"fake:latest\"}]}";
                case "/api/ps" -> "{\"models\":[]}";
                default -> null;
            };
            byte[] b = (body == null ? "{\"error\":\"not found\"}" : body).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(body == null ? 404 : 200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        System.out.println("Listening on " + host + " (fake ollama)");
    }
}
