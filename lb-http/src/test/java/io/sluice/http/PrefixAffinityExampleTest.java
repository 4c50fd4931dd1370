package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.sim.VllmSimulator;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code config/examples/prefix-affinity.yaml} does what its comments say (on an ephemeral port instead of 8000). */
class PrefixAffinityExampleTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern ROUTE = Pattern.compile("backend=([^;]+); policy=prefix-affinity; prefix-blocks=(\\d+)/(\\d+)");

    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .configFile(Path.of("../config/examples/prefix-affinity.yaml"))
            .env("SLUICE_PORT", "0")
            .build();

    @Test
    void theSameSystemPromptGoesBackToTheBackendThatCachedIt() throws Exception {
        String system = "You are the assistant of ACME support. " + "policy ".repeat(600);
        Matcher first = route(system);
        assertEquals("0", first.group(2), "nobody served this prompt before: " + first.group());
        long hitsBefore = hits();
        Matcher second = route(system);
        assertEquals(first.group(1), second.group(1), "the backend holding the prefix: " + second.group());
        assertEquals(second.group(3), second.group(2), "every hashed leading block matched: " + second.group());
        assertTrue(hits() - hitsBefore >= 600, "the simulator reused the cached prompt tokens");
        Matcher other = route("A different assistant. " + "other ".repeat(600));
        assertEquals("0", other.group(2), other.group());
    }

    private Matcher route(String system) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("model", "demo").put("stream", true).put("max_tokens", 4);
        body.putArray("messages").add(JSON.createObjectNode().put("role", "system").put("content", system))
                .add(JSON.createObjectNode().put("role", "user").put("content", "hi"));
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(sluice.port())) {
            r = c.post("/v1/chat/completions", JSON.writeValueAsString(body)).exchange();
        }
        assertEquals(200, r.status(), r.body().text());
        assertEquals("[DONE]", r.body().events().get(r.body().events().size() - 1));
        String header = r.header("x-sluice-route");
        Matcher m = ROUTE.matcher(header == null ? "" : header);
        assertTrue(m.find(), "x-sluice-route: " + header);
        return m;
    }

    private long hits() {
        return sluice.server().simulators().stream().mapToLong(VllmSimulator::prefixCacheHits).sum();
    }
}
