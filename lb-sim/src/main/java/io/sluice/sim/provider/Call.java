package io.sluice.sim.provider;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sluice.core.http.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** One request as the formats see it: method, decoded path and query, headers, body text. */
final class Call {
    final String method;
    final String path;
    final Map<String, List<String>> query;
    final HttpHeaders headers;
    final String body;

    Call(FullHttpRequest req) {
        this.method = req.method().name();
        QueryStringDecoder d = new QueryStringDecoder(req.uri());
        this.path = d.path();
        this.query = d.parameters();
        this.headers = req.headers();
        this.body = req.content().toString(StandardCharsets.UTF_8);
    }

    String header(String name) {
        return headers.get(name);
    }

    String query(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    boolean is(String method, String path) {
        return this.method.equals(method) && this.path.equals(path);
    }

    /** The body as a JSON object; throws when it is empty, malformed or not an object. */
    ObjectNode json() throws JsonProcessingException {
        if (body.isBlank()) {
            throw new EmptyBody();
        }
        JsonNode n = Json.MAPPER.readTree(body);
        if (n == null || !n.isObject()) {
            throw new NotAnObject();
        }
        return (ObjectNode) n;
    }

    static final class EmptyBody extends JsonProcessingException {
        EmptyBody() {
            super("empty body");
        }
    }

    static final class NotAnObject extends JsonProcessingException {
        NotAnObject() {
            super("not a JSON object");
        }
    }

    // ---- small JSON helpers shared by the formats ----

    static ObjectNode obj() {
        return Json.MAPPER.createObjectNode();
    }

    static ArrayNode arr() {
        return Json.MAPPER.createArrayNode();
    }

    static byte[] bytes(JsonNode n) {
        try {
            return Json.MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String text(JsonNode n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Words of a string, or of the {@code text} of every part of an array of content parts. */
    static int contentWords(JsonNode content) {
        if (content == null || content.isNull()) {
            return 0;
        }
        if (content.isTextual()) {
            return Behaviour.words(content.asText());
        }
        int n = 0;
        if (content.isArray()) {
            for (JsonNode part : content) {
                n += part.isTextual() ? Behaviour.words(part.asText()) : Behaviour.words(part.path("text").asText(""));
            }
        }
        return n;
    }

    static String randomId(int length) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
