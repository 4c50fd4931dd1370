package io.sluice.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Response shapes checked field by field against what vLLM's OpenAI server emits. */
@Timeout(60)
class WireFormatTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static VllmSimulator sim;
    static HttpClient http;

    @BeforeAll
    static void start() {
        sim = VllmSimulator.start(SimulatorOptions.builder().models(List.of("demo", "alias"))
                .ttft(Duration.ofMillis(5)).itl(Duration.ofMillis(2)).maxTokens(8).build());
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Splits an SSE body into its data payloads, checking the {@code data: X\n\n} framing. */
    static List<String> events(String body) {
        assertTrue(body.endsWith("\n\n"), body);
        List<String> out = new ArrayList<>();
        for (String e : body.substring(0, body.length() - 2).split("\n\n", -1)) {
            assertTrue(e.startsWith("data: ") && !e.contains("\n"), e);
            out.add(e.substring(6));
        }
        return out;
    }

    static List<String> keys(JsonNode n) {
        List<String> k = new ArrayList<>();
        n.fieldNames().forEachRemaining(k::add);
        return k;
    }

    @Test
    void chatStreamWithUsageAndLengthFinish() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"demo\",\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"max_tokens\":5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"say four words now\"}]}");
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        List<String> ev = events(r.body());
        assertEquals(1 + 5 + 1 + 1, ev.size(), r.body()); // role, 5 tokens, usage, [DONE]
        assertEquals("[DONE]", ev.get(ev.size() - 1));

        JsonNode first = JSON.readTree(ev.get(0));
        String id = first.get("id").asText();
        assertTrue(id.matches("chatcmpl-[0-9a-f]{32}"), id);
        long created = first.get("created").asLong();
        assertEquals(List.of("id", "object", "created", "model", "choices", "prompt_token_ids"), keys(first));
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals("demo", first.get("model").asText());
        assertTrue(first.get("prompt_token_ids").isNull());
        JsonNode c0 = first.get("choices").get(0);
        assertEquals(List.of("index", "delta", "logprobs", "finish_reason"), keys(c0));
        assertEquals(0, c0.get("index").asInt());
        assertEquals(List.of("role", "content"), keys(c0.get("delta")));
        assertEquals("assistant", c0.get("delta").get("role").asText());
        assertEquals("", c0.get("delta").get("content").asText());
        assertTrue(c0.get("logprobs").isNull() && c0.get("finish_reason").isNull());

        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 5; i++) {
            JsonNode chunk = JSON.readTree(ev.get(i));
            assertEquals(List.of("id", "object", "created", "model", "choices"), keys(chunk));
            assertEquals(id, chunk.get("id").asText());
            assertEquals(created, chunk.get("created").asLong());
            JsonNode c = chunk.get("choices").get(0);
            assertEquals(List.of("content"), keys(c.get("delta")));
            text.append(c.get("delta").get("content").asText());
            assertTrue(c.get("logprobs").isNull());
            assertTrue(c.get("token_ids").isNull());
            if (i < 5) {
                assertEquals(List.of("index", "delta", "logprobs", "finish_reason", "token_ids"), keys(c));
                assertTrue(c.get("finish_reason").isNull());
            } else {
                assertEquals(List.of("index", "delta", "logprobs", "finish_reason", "stop_reason", "token_ids"),
                        keys(c));
                assertEquals("length", c.get("finish_reason").asText());
                assertTrue(c.get("stop_reason").isNull());
            }
        }
        assertEquals("Lorem ipsum dolor sit amet", text.toString());

        JsonNode usage = JSON.readTree(ev.get(6));
        assertEquals(List.of("id", "object", "created", "model", "choices", "usage"), keys(usage));
        assertEquals(0, usage.get("choices").size());
        assertEquals(List.of("prompt_tokens", "total_tokens", "completion_tokens"), keys(usage.get("usage")));
        assertEquals(4, usage.get("usage").get("prompt_tokens").asInt());
        assertEquals(5, usage.get("usage").get("completion_tokens").asInt());
        assertEquals(9, usage.get("usage").get("total_tokens").asInt());
    }

    @Test
    void chatStreamStopsWithEmptyEosChunkAndNoUsageByDefault() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"alias\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]}");
        List<String> ev = events(r.body());
        assertEquals(1 + 8 + 1, ev.size(), r.body()); // role, 7 words + EOS, [DONE]
        JsonNode last = JSON.readTree(ev.get(8));
        assertEquals("demo", last.get("model").asText()); // vLLM reports the first served name
        JsonNode c = last.get("choices").get(0);
        assertEquals("", c.get("delta").get("content").asText());
        assertEquals("stop", c.get("finish_reason").asText());
        assertTrue(c.has("stop_reason") && c.get("stop_reason").isNull());
        // exact bytes of one content chunk
        String id = JSON.readTree(ev.get(1)).get("id").asText();
        long created = JSON.readTree(ev.get(1)).get("created").asLong();
        assertEquals("{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":\"demo\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ipsum\"},\"logprobs\":null,"
                + "\"finish_reason\":null,\"token_ids\":null}]}", ev.get(2));
    }

    @Test
    void chatNonStreaming() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a b\"}],"
                + "\"max_completion_tokens\":3,\"max_tokens\":6}");
        assertEquals(200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
        JsonNode body = JSON.readTree(r.body());
        assertEquals(List.of("id", "object", "created", "model", "choices", "service_tier", "system_fingerprint",
                "usage", "prompt_logprobs", "prompt_token_ids", "kv_transfer_params"), keys(body));
        assertEquals("chat.completion", body.get("object").asText());
        JsonNode choice = body.get("choices").get(0);
        assertEquals(List.of("index", "message", "logprobs", "finish_reason", "stop_reason", "token_ids"),
                keys(choice));
        assertEquals(List.of("role", "content", "refusal", "annotations", "audio", "function_call", "tool_calls",
                "reasoning"), keys(choice.get("message")));
        assertEquals("Lorem ipsum dolor", choice.get("message").get("content").asText());
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals(0, choice.get("message").get("tool_calls").size());
        JsonNode usage = body.get("usage");
        assertEquals(List.of("prompt_tokens", "total_tokens", "completion_tokens", "prompt_tokens_details"),
                keys(usage));
        assertEquals(2, usage.get("prompt_tokens").asInt());
        assertEquals(3, usage.get("completion_tokens").asInt());
        assertEquals(5, usage.get("total_tokens").asInt());
    }

    @Test
    void completionsStreamAndNot() throws Exception {
        HttpResponse<String> r = post("/v1/completions", "{\"model\":\"demo\",\"prompt\":\"one two three\","
                + "\"stream\":true,\"max_tokens\":2,\"stream_options\":{}}");
        List<String> ev = events(r.body());
        assertEquals(2 + 1 + 1, ev.size(), r.body()); // 2 tokens, usage (include_usage defaults to true), [DONE]
        JsonNode t0 = JSON.readTree(ev.get(0));
        assertTrue(t0.get("id").asText().startsWith("cmpl-"));
        assertEquals(List.of("id", "object", "created", "model", "choices", "usage"), keys(t0));
        assertEquals("text_completion", t0.get("object").asText());
        assertTrue(t0.get("usage").isNull());
        JsonNode c0 = t0.get("choices").get(0);
        assertEquals(List.of("index", "text", "logprobs", "finish_reason", "stop_reason", "prompt_token_ids",
                "token_ids"), keys(c0));
        assertEquals("Lorem", c0.get("text").asText());
        assertTrue(c0.get("finish_reason").isNull());
        assertEquals("length", JSON.readTree(ev.get(1)).get("choices").get(0).get("finish_reason").asText());
        JsonNode usage = JSON.readTree(ev.get(2));
        assertEquals(List.of("id", "object", "created", "model", "choices", "usage"), keys(usage));
        assertEquals(3, usage.get("usage").get("prompt_tokens").asInt());

        JsonNode full = JSON.readTree(post("/v1/completions", "{\"prompt\":[1,2,3,4]}").body());
        assertEquals(List.of("id", "object", "created", "model", "choices", "service_tier", "system_fingerprint",
                "usage", "kv_transfer_params"), keys(full));
        JsonNode c = full.get("choices").get(0);
        assertEquals(List.of("index", "text", "logprobs", "finish_reason", "stop_reason", "token_ids",
                "prompt_logprobs", "prompt_token_ids"), keys(c));
        assertEquals("stop", c.get("finish_reason").asText());
        assertEquals("Lorem ipsum dolor sit amet, consectetur", c.get("text").asText());
        assertEquals(4, full.get("usage").get("prompt_tokens").asInt());
        assertEquals(8, full.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void requestIdHeaderBecomesResponseId() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").header("X-Request-Id", "abc-123")
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("chatcmpl-abc-123", JSON.readTree(r.body()).get("id").asText());
    }

    @Test
    void models() throws Exception {
        HttpResponse<String> r = get("/v1/models");
        assertEquals(200, r.statusCode());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("list", body.get("object").asText());
        assertEquals(2, body.get("data").size());
        JsonNode card = body.get("data").get(0);
        assertEquals(List.of("id", "object", "created", "owned_by", "root", "parent", "max_model_len", "permission"),
                keys(card));
        assertEquals("demo", card.get("id").asText());
        assertEquals("model", card.get("object").asText());
        assertEquals("vllm", card.get("owned_by").asText());
        assertEquals("demo", card.get("root").asText());
        assertTrue(card.get("parent").isNull());
        assertEquals(8192, card.get("max_model_len").asInt());
        JsonNode perm = card.get("permission").get(0);
        assertTrue(perm.get("id").asText().startsWith("modelperm-"));
        assertEquals("model_permission", perm.get("object").asText());
        assertEquals("alias", body.get("data").get(1).get("id").asText());
    }

    @Test
    void errors() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions",
                "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, r.statusCode());
        assertEquals("{\"error\":{\"message\":\"The model `nope` does not exist.\",\"type\":\"NotFoundError\","
                + "\"param\":\"model\",\"code\":404}}", r.body());

        r = post("/v1/chat/completions", "{not json");
        assertEquals(400, r.statusCode());
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertEquals(List.of("message", "type", "param", "code"), keys(err));
        assertEquals(400, err.get("code").asInt());
        assertEquals("Bad Request", err.get("type").asText());

        assertEquals(400, post("/v1/chat/completions", "{\"model\":\"demo\"}").statusCode());
        assertEquals(400, post("/v1/completions", "{\"model\":\"demo\"}").statusCode());
        r = post("/v1/chat/completions", "{\"messages\":[],\"max_tokens\":100000}");
        assertEquals(400, r.statusCode());
        assertEquals("BadRequestError", JSON.readTree(r.body()).get("error").get("type").asText());
        assertEquals("max_tokens", JSON.readTree(r.body()).get("error").get("param").asText());

        r = get("/v2/nothing");
        assertEquals(404, r.statusCode());
        assertEquals("{\"detail\":\"Not Found\"}", r.body());
        r = get("/v1/chat/completions");
        assertEquals(405, r.statusCode());
        assertEquals("{\"detail\":\"Method Not Allowed\"}", r.body());
    }

    @Test
    void healthAndKeepAlive() throws Exception {
        try (Raw raw = Raw.post(sim.port(), "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}")) {
            raw.socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertTrue(raw.readUntil("content-length: 0\r\n\r\n"));
            String text = raw.text();
            assertTrue(text.startsWith("HTTP/1.1 200 OK\r\n"), text);
            assertEquals(2, Raw.count(text, "HTTP/1.1 200 OK\r\n"), "pipelined requests answered in order on one connection");
            assertTrue(text.indexOf("text_completion") < text.lastIndexOf("HTTP/1.1 200 OK"));
        }
    }

    @Test
    void streamIsChunkedOnTheWire() throws Exception {
        try (Raw raw = Raw.post(sim.port(), "/v1/chat/completions",
                "{\"stream\":true,\"max_tokens\":1,\"messages\":[]}")) {
            assertTrue(raw.readUntil("data: [DONE]\n\n\r\n0\r\n\r\n"));
            String head = raw.text().substring(0, raw.text().indexOf("\r\n\r\n"));
            assertTrue(head.contains("\r\ntransfer-encoding: chunked"), head);
            assertTrue(head.contains("\r\ncontent-type: text/event-stream; charset=utf-8"), head);
        }
    }

    @Test
    void metricsExposeVllmNamesAndMove() throws Exception {
        long before = sim.generationTokensTotal();
        post("/v1/completions", "{\"prompt\":\"count me\",\"max_tokens\":3}");
        assertEquals(before + 3, sim.generationTokensTotal());
        HttpResponse<String> r = get("/metrics");
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        String text = r.body();
        for (String name : List.of("vllm:num_requests_running", "vllm:num_requests_waiting",
                "vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                "vllm:request_success_total")) {
            assertTrue(text.contains("# HELP " + name + " "), name);
            assertTrue(text.contains("# TYPE " + name + " "), name);
        }
        assertTrue(text.contains("vllm:generation_tokens_total{engine=\"0\",model_name=\"demo\"} "
                + sim.generationTokensTotal() + ".0\n"), text);
        assertTrue(text.contains("vllm:prompt_tokens_total{engine=\"0\",model_name=\"demo\"} "
                + sim.promptTokensTotal() + ".0\n"), text);
        assertFalse(text.contains("finished_reason=\"length\",model_name=\"demo\"} 0.0"), text);
        assertTrue(text.contains("vllm:request_success_total{engine=\"0\",finished_reason=\"abort\","
                + "model_name=\"demo\"} 0.0\n"), text);
        List<String> samples = Stream.of(text.split("\n")).filter(l -> !l.startsWith("#")).collect(Collectors.toList());
        for (String s : samples) {
            assertTrue(s.matches("vllm:[a-z_]+\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\} [0-9.]+"), s);
        }
        Iterator<String> it = samples.iterator();
        assertTrue(it.next().startsWith("vllm:num_requests_running{engine=\"0\",model_name=\"demo\"} 0.0"));
    }
}
