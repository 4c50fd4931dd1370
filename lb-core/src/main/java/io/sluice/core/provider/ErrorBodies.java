package io.sluice.core.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.core.http.Json;
import java.io.IOException;

/** Reading providers' error bodies; what no body says falls back to a code derived from the status. */
final class ErrorBodies {
    private ErrorBodies() {
    }

    /** The body as JSON, or null when it is empty or not JSON. */
    static JsonNode json(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** A code in OpenAI's vocabulary for a status, for bodies that carry none. */
    static String codeFor(int status) {
        return switch (status) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 408 -> "timeout";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_exceeded";
            case 529 -> "overloaded_error";
            default -> status >= 500 ? "upstream_error" : "http_" + status;
        };
    }

    /** For a body without a usable message (HTML from a proxy, empty...): never echoes it. */
    static ProviderError generic(int status, String retryAfter) {
        return new ProviderError(status, "the provider answered HTTP " + status, codeFor(status), retryAfter);
    }

    static String textOrNull(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() || n.asText().isEmpty() ? null : n.asText();
    }
}
