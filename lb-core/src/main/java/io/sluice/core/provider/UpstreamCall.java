package io.sluice.core.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One request to a provider, as its API wants it.
 *
 * @param path   relative to the provider's base URL, with the query if any: {@code /chat/completions},
 *               {@code /v1/messages}, {@code /v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse},
 *               {@code /api/chat}
 * @param body   the JSON body (always a POST)
 * @param stream whether the answer is a stream (SSE, or NDJSON for Ollama)
 */
public record UpstreamCall(String path, ObjectNode body, boolean stream) {
}
