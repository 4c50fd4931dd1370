package io.sluice.http.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sluice.core.config.ProviderConfig;
import io.sluice.core.provider.WireFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a check asks each provider for, and what of an error answer it keeps. */
class ProviderHealthMessagesTest {

    private static ProviderConfig provider(WireFormat format, String basePath, String key) {
        return new ProviderConfig("p", format, "@p", basePath, "http://x" + basePath, key, true,
                format == WireFormat.ANTHROPIC ? "2023-06-01" : null, null);
    }

    @Test
    void pathsAndHeadersPerFormat() {
        assertEquals("/v1/models", ProviderHealth.checkPath(provider(WireFormat.OPENAI, "/v1", "k")));
        assertEquals("/openai/v1/models", ProviderHealth.checkPath(provider(WireFormat.OPENAI, "/openai/v1", "k")));
        assertEquals("/v1/models", ProviderHealth.checkPath(provider(WireFormat.ANTHROPIC, "", "k")));
        assertEquals("/v1beta/models", ProviderHealth.checkPath(provider(WireFormat.GEMINI, "", "k")));
        assertEquals("/api/version", ProviderHealth.checkPath(provider(WireFormat.OLLAMA, "", "")));
        assertEquals(Map.of("authorization", "Bearer k"), ProviderHealth.checkHeaders(provider(WireFormat.OPENAI, "/v1", "k")));
        assertEquals(Map.of("x-api-key", "k", "anthropic-version", "2023-06-01"),
                ProviderHealth.checkHeaders(provider(WireFormat.ANTHROPIC, "", "k")));
        assertEquals(Map.of("x-goog-api-key", "k"), ProviderHealth.checkHeaders(provider(WireFormat.GEMINI, "", "k")));
        assertEquals(Map.of(), ProviderHealth.checkHeaders(provider(WireFormat.OLLAMA, "", "")));
    }

    @Test
    void errorMessagesOfEachProviderWithoutKeys() {
        String key = "sk-proj-abcdefghijklmnop1234";
        assertEquals(": Incorrect API key provided: <redacted>. See the docs.", ProviderHealth.errorMessage(
                "{\"error\":{\"message\":\"Incorrect API key provided: " + key + ". See the docs.\",\"type\":\"invalid_request_error\"}}", key));
        // OpenAI masks the key it echoes: the masked form goes too.
        assertEquals(": Incorrect API key provided: <redacted>.", ProviderHealth.errorMessage(
                "{\"error\":{\"message\":\"Incorrect API key provided: sk-proj-****************1234.\"}}", key));
        assertEquals(": invalid x-api-key", ProviderHealth.errorMessage(
                "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}", "k"));
        assertEquals(": API key not valid.", ProviderHealth.errorMessage(
                "{\"error\":{\"code\":400,\"message\":\"API key not valid.\",\"status\":\"INVALID_ARGUMENT\"}}", "k"));
        assertEquals(": model not found", ProviderHealth.errorMessage("{\"error\":\"model not found\"}", ""));
        assertEquals(": Bad Gateway", ProviderHealth.errorMessage("<html>\n Bad Gateway </html>".replaceAll("<[^>]+>", ""), ""));
        assertEquals("", ProviderHealth.errorMessage("", ""));
        String longBody = "x".repeat(5000);
        assertEquals(2 + 300 + 1, ProviderHealth.errorMessage(longBody, "").length());
        assertFalse(ProviderHealth.redact("key AIzaSyA-1234567890abcdef here", "other").contains("AIza"));
    }
}
