package io.sluice.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.sluice.core.model.ModelScanner.Found;
import io.sluice.core.model.ModelScanner.State;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelScannerTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String token(byte[] body, Found f) {
        return new String(body, f.start(), f.end() - f.start(), StandardCharsets.UTF_8);
    }

    @Test
    void findsTheTopLevelModelAndItsToken() {
        byte[] body = utf8("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}], \"model\" : \"llama-3-8b\",\"stream\":true}");
        Found f = ModelScanner.find(body);
        assertEquals("llama-3-8b", f.value());
        assertEquals("\"llama-3-8b\"", token(body, f));
    }

    @Test
    void nestedModelKeysDoNotCount() {
        String nested = "\"messages\":[{\"model\":\"a\",\"content\":[{\"model\":\"b\"}]}],\"tools\":[{\"function\":{\"model\":\"c\"}}],"
                + "\"metadata\":{\"model\":\"d\",\"x\":{\"model\":{\"model\":\"e\"}}}";
        assertEquals(State.NO_MODEL, ModelScanner.scan(utf8("{" + nested + "}")).state());
        byte[] body = utf8("{" + nested + ",\"model\":\"real\"}");
        assertEquals("real", ModelScanner.find(body).value());
        byte[] first = utf8("{\"model\":\"real\"," + nested + "}");
        assertEquals("real", ModelScanner.find(first).value());
    }

    @Test
    void escapesAreDecodedAndOffsetsAreRaw() {
        byte[] body = utf8("{\"mo\\u0064el\":\"llama\\\"x\\u00e9\\ud83d\\ude00\"}");
        Found f = ModelScanner.find(body);
        assertEquals("llama\"x\u00e9\ud83d\ude00", f.value());
        assertEquals("\"llama\\\"x\\u00e9\\ud83d\\ude00\"", token(body, f));
        byte[] literal = utf8("{\"x\":\"\u00e9\u00e9\",\"model\":\"\u00e9\ud83d\ude00\"}");
        Found g = ModelScanner.find(literal);
        assertEquals("\u00e9\ud83d\ude00", g.value());
        assertEquals("\"\u00e9\ud83d\ude00\"", token(literal, g));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"model\":\"a\",\"model\":\"b\"}",
            "{\"model\":\"a\",\"x\":1,\"mo\\u0064el\":\"a\"}",
            "{\"model\":null,\"model\":\"b\"}",
            "{\"model\":{\"model\":1},\"model\":[1]}",
            "{\"model\":\"a\",\"model\":\"b\",\"model\":\"c\"}"})
    void twoTopLevelModelsAreDuplicate(String body) {
        assertEquals(State.DUPLICATE, ModelScanner.scan(utf8(body)).state());
        assertNull(ModelScanner.find(utf8(body)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"model\":null}", "{\"model\":3}", "{\"model\":{\"id\":\"a\"}}", "{\"model\":[\"a\"]}", "{\"model\":true}"})
    void nonStringModel(String body) {
        assertEquals(State.NOT_STRING, ModelScanner.scan(utf8(body)).state());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "[]", "[{\"model\":\"a\"}]", "\"model\"", "null", "{", "{\"model\":\"a\"",
            "{\"model\":\"a\"}x", "{\"model\":\"a\"}{}", "{\"model\":\"a\",}", "{model:\"a\"}", "{'model':'a'}",
            "{\"model\":\"a\" /* c */}", "{\"model\":\"a\",\"model\":\"b\"", "{\"model\":\"a\",\"model\":\"b\",}",
            "{\"x\":[1,2}", "{\"model\":\"unterminated}"})
    void notJson(String body) {
        assertEquals(State.NOT_JSON, ModelScanner.scan(utf8(body)).state(), body);
    }

    @Test
    void utf16IsNotJsonForTheScanner() {
        assertEquals(State.NOT_JSON, ModelScanner.scan("{\"model\":\"a\"}".getBytes(StandardCharsets.UTF_16BE)).state());
    }

    @Test
    void tooDeepIsNotJson() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertEquals(State.NOT_JSON, ModelScanner.scan(utf8("{\"x\":" + deep + ",\"model\":\"a\"}")).state());
    }

    @Test
    void largeNestedValuesAreSkipped() {
        StringBuilder big = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < 20_000; i++) {
            big.append(i == 0 ? "" : ",").append("{\"role\":\"user\",\"model\":\"no\",\"content\":\"").append("x".repeat(50)).append("\"}");
        }
        big.append("],\"prompt\":\"").append("y".repeat(1 << 20)).append("\",\"model\":\"yes\"}");
        assertEquals("yes", ModelScanner.find(utf8(big.toString())).value());
    }

    @Test
    void byteBufsOfEveryKindAndIndexesUntouched() {
        byte[] json = utf8("{\"a\":[1],\"model\":\"m1\"}");
        ByteBuf heap = Unpooled.buffer(64);
        heap.writeBytes(utf8("junk")).writeBytes(json);
        heap.readerIndex(4);
        ByteBuf direct = ALLOC.directBuffer().writeBytes(json);
        CompositeByteBuf composite = ALLOC.compositeBuffer()
                .addComponent(true, Unpooled.wrappedBuffer(json, 0, 7))
                .addComponent(true, ALLOC.directBuffer().writeBytes(json, 7, json.length - 7));
        ByteBuf slice = Unpooled.wrappedBuffer(utf8("xx" + new String(json, StandardCharsets.UTF_8) + "yy")).slice(2, json.length);
        try {
            for (ByteBuf b : new ByteBuf[] {heap, direct, composite, slice}) {
                int reader = b.readerIndex();
                int writer = b.writerIndex();
                Found f = ModelScanner.find(b);
                assertEquals("m1", f.value());
                assertEquals(9 + 8, f.start());
                assertEquals("\"m1\"", b.toString(b.readerIndex() + f.start(), f.end() - f.start(), StandardCharsets.UTF_8));
                assertEquals(reader, b.readerIndex());
                assertEquals(writer, b.writerIndex());
                assertEquals(1, b.refCnt());
            }
        } finally {
            heap.release();
            direct.release();
            composite.release();
            slice.release();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "llama-3-8b",
            "`with \"quotes\" and \\ backslash`",
            "`tab\tnewline\ncontrol\u0001`",
            "`caf\u00e9 \ud83d\ude00`",
            "`</script>`"})
    void replaceByteBufAndBytes(String newValue) throws Exception {
        String json = "{\"model\":\"gpt-4o\",\"messages\":[{\"model\":\"x\",\"content\":\"hi\"}],\"n\":1}";
        ByteBuf body = ALLOC.directBuffer().writeBytes(utf8("pre")).writeBytes(utf8(json));
        body.readerIndex(3);
        Found f = ModelScanner.find(body);
        ByteBuf out = ModelScanner.replace(ALLOC, body, f, newValue);
        try {
            assertEquals(3, body.refCnt()); // ours plus the two slices out holds
            assertEquals(3, body.readerIndex());
            ObjectNode expected = (ObjectNode) MAPPER.readTree(json);
            expected.put("model", newValue);
            byte[] bytes = new byte[out.readableBytes()];
            out.getBytes(out.readerIndex(), bytes);
            assertEquals(expected, MAPPER.readTree(bytes));
            assertEquals(newValue, ModelScanner.find(out).value());
            assertArrayEquals(bytes, ModelScanner.replace(utf8(json), ModelScanner.find(utf8(json)), newValue));
        } finally {
            body.release(); // the caller's, as before; out keeps its own references
            assertTrue(out.isReadable());
            assertEquals(newValue, ModelScanner.find(out).value());
            out.release();
        }
    }

    @Test
    void replaceAtTheEdges() throws Exception {
        // The model token at the very start and end of the scanned bytes cannot happen in an object, but the
        // slices around it can be empty-adjacent: a body that is only the model member.
        byte[] json = utf8("{\"model\":\"a\"}");
        ByteBuf body = Unpooled.wrappedBuffer(json);
        ByteBuf out = ModelScanner.replace(ALLOC, body, ModelScanner.find(body), "bb");
        try {
            assertEquals("{\"model\":\"bb\"}", out.toString(StandardCharsets.UTF_8));
        } finally {
            out.release();
            body.release();
        }
        assertEquals(0, body.refCnt());
    }

    // ---- randomized: the scanner agrees with Jackson's tree on generated bodies

    @Test
    void agreesWithTheTreeOnRandomBodies() throws Exception {
        long seed = Long.getLong("scanner.seed", 20240612L);
        Random r = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            ObjectNode tree = randomObject(r, 0, true);
            int roll = r.nextInt(10);
            if (roll < 6) {
                tree.put("model", randomString(r));
            } else if (roll == 6) {
                tree.set("model", r.nextBoolean() ? JsonNodeFactory.instance.nullNode() : randomObject(r, 2, true));
            } else {
                tree.remove("model");
            }
            // Field order matters for offsets, not for equality: move model to a random place.
            ObjectNode shuffled = shuffle(tree, r);
            StringBuilder text = new StringBuilder();
            write(shuffled, text, r);
            byte[] body = utf8(text.toString());
            String context = "seed " + seed + " case " + i + ": " + text;
            JsonNode parsed = MAPPER.readTree(body);
            assertEquals(shuffled, parsed, context);
            ModelScanner.Result res = ModelScanner.scan(body);
            JsonNode m = parsed.get("model");
            if (m == null) {
                assertEquals(State.NO_MODEL, res.state(), context);
                continue;
            }
            if (!m.isTextual()) {
                assertEquals(State.NOT_STRING, res.state(), context);
                continue;
            }
            assertEquals(State.FOUND, res.state(), context);
            Found f = res.found();
            assertEquals(m.textValue(), f.value(), context);
            assertEquals(m, MAPPER.readTree(token(body, f)), context);
            String newValue = randomString(r);
            ObjectNode expected = parsed.deepCopy();
            expected.put("model", newValue);
            assertEquals(expected, MAPPER.readTree(ModelScanner.replace(body, f, newValue)), context);
            ByteBuf buf = ALLOC.directBuffer(body.length).writeBytes(body);
            ByteBuf out = ModelScanner.replace(ALLOC, buf, f, newValue);
            buf.release();
            byte[] replaced = new byte[out.readableBytes()];
            out.readBytes(replaced);
            out.release();
            assertEquals(expected, MAPPER.readTree(replaced), context);

            // A second top-level model anywhere makes it a duplicate.
            String whole = text.toString().strip();
            String dup = whole.substring(0, whole.length() - 1).stripTrailing();
            dup += (dup.endsWith("{") ? "" : ",") + "\"" + (r.nextBoolean() ? "model" : "mod\\u0065l") + "\":" + (r.nextBoolean() ? "1" : "\"z\"") + "}";
            assertEquals(State.DUPLICATE, ModelScanner.scan(utf8(dup)).state(), "duplicate " + context + " -> " + dup);
        }
    }

    private static final String[] KEYS = {"model", "messages", "content", "role", "tools", "metadata", "n", "stream", "x", "\u00e9t\u00e9", "mo"};

    private static ObjectNode randomObject(Random r, int depth, boolean allowModel) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        int n = r.nextInt(depth == 0 ? 6 : 4);
        for (int i = 0; i < n; i++) {
            String key = KEYS[r.nextInt(KEYS.length)];
            if (!allowModel && key.equals("model")) {
                continue;
            }
            o.set(key, randomValue(r, depth + 1));
        }
        return o;
    }

    private static JsonNode randomValue(Random r, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        int kind = r.nextInt(depth > 4 ? 5 : 7);
        switch (kind) {
            case 0: return f.textNode(randomString(r));
            case 1: return f.numberNode(r.nextInt(2000) - 1000);
            case 2: return f.numberNode(r.nextDouble() * 1e6);
            case 3: return f.booleanNode(r.nextBoolean());
            case 4: return f.nullNode();
            case 5: return randomObject(r, depth, true); // nested "model" keys included
            default:
                ArrayNode a = f.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) {
                    a.add(randomValue(r, depth + 1));
                }
                return a;
        }
    }

    private static String randomString(Random r) {
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(12); i > 0; i--) {
            switch (r.nextInt(8)) {
                case 0 -> s.append('"');
                case 1 -> s.append('\\');
                case 2 -> s.append((char) r.nextInt(0x20));
                case 3 -> s.append("\u00e9\u4e2d");
                case 4 -> s.appendCodePoint(0x1F600 + r.nextInt(50));
                case 5 -> s.append("model");
                default -> s.append((char) ('a' + r.nextInt(26)));
            }
        }
        return s.toString();
    }

    private static ObjectNode shuffle(ObjectNode o, Random r) {
        java.util.List<Map.Entry<String, JsonNode>> fields = new java.util.ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            fields.add(it.next());
        }
        java.util.Collections.shuffle(fields, r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        fields.forEach(e -> out.set(e.getKey(), e.getValue()));
        return out;
    }

    private static void ws(StringBuilder out, Random r) {
        for (int i = r.nextInt(4) == 0 ? r.nextInt(3) + 1 : 0; i > 0; i--) {
            out.append(" \n\t\r".charAt(r.nextInt(4)));
        }
    }

    /** JSON text with random whitespace and random (valid) escaping of keys and strings. */
    private static void write(JsonNode n, StringBuilder out, Random r) {
        ws(out, r);
        if (n.isObject()) {
            out.append('{');
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!first) {
                    out.append(',');
                }
                first = false;
                ws(out, r);
                string(e.getKey(), out, r);
                ws(out, r);
                out.append(':');
                write(e.getValue(), out, r);
            }
            ws(out, r);
            out.append('}');
        } else if (n.isArray()) {
            out.append('[');
            for (int i = 0; i < n.size(); i++) {
                out.append(i == 0 ? "" : ",");
                write(n.get(i), out, r);
            }
            ws(out, r);
            out.append(']');
        } else if (n.isTextual()) {
            string(n.textValue(), out, r);
        } else {
            out.append(n.toString());
        }
        ws(out, r);
    }

    private static void string(String s, StringBuilder out, Random r) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) { // a pair is escaped as a whole or not at all
                if (r.nextInt(3) == 0) {
                    out.append(String.format("\\u%04x\\u%04x", (int) c, (int) s.charAt(i + 1)));
                } else {
                    out.append(c).append(s.charAt(i + 1));
                }
                i++;
                continue;
            }
            boolean mustEscape = c == '"' || c == '\\' || c < 0x20;
            if (mustEscape || r.nextInt(6) == 0) {
                switch (c) {
                    case '"' -> out.append(r.nextBoolean() ? "\\\"" : "\\u0022");
                    case '\\' -> out.append(r.nextBoolean() ? "\\\\" : "\\u005C");
                    case '\n' -> out.append(r.nextBoolean() ? "\\n" : "\\u000a");
                    case '/' -> out.append("\\/");
                    default -> out.append(String.format("\\u%04x", (int) c));
                }
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
