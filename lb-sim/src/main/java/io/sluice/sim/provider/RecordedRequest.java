package io.sluice.sim.provider;

import java.util.List;
import java.util.Map;

/**
 * One request as the simulator received it, so a test can check what a gateway actually sent upstream
 * (rewritten path, injected key, translated body).
 *
 * @param headers lower-case names, in arrival order, each with its values in order
 */
public record RecordedRequest(String method, String uri, Map<String, List<String>> headers, String body) {
    public RecordedRequest {
        headers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(headers));
    }

    /** The first value of a header (any case), or null. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
