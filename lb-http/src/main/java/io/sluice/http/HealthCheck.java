package io.sluice.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;

/**
 * The container image's HEALTHCHECK: exits 0 when {@code GET /api/health} answers 200, 1 otherwise. A Java
 * main because the image has no shell and no curl; it uses only java.base so it starts in a fraction of a second.
 * The URL is {@code SLUICE_HEALTH_URL}, or {@code http://127.0.0.1:${SLUICE_PORT:-8000}/api/health} (a
 * loopback client, so no admin token is needed).
 */
public final class HealthCheck {
    private HealthCheck() {
    }

    public static void main(String[] args) {
        String url = System.getenv("SLUICE_HEALTH_URL");
        if (url == null || url.isEmpty()) {
            String port = System.getenv("SLUICE_PORT");
            url = "http://127.0.0.1:" + (port == null || port.isEmpty() ? "8000" : port) + "/api/health";
        }
        System.exit(check(url));
    }

    static int check(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(3000);
            int status = c.getResponseCode();
            try (InputStream body = status < 400 ? c.getInputStream() : c.getErrorStream()) {
                String text = body == null ? "" : new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                System.out.println(status + " " + text);
            }
            return status == 200 ? 0 : 1;
        } catch (IOException | RuntimeException e) {
            System.out.println(url + ": " + e);
            return 1;
        }
    }
}
