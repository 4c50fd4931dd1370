package io.sluice.core.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.util.Objects;

/**
 * Finds the top-level {@code "model"} member of an OpenAI-style JSON request body without building a
 * tree: one pass of Jackson's streaming parser, nested values skipped, string values not decoded unless
 * they are the model. Members named {@code model} inside nested objects (messages, tools, metadata) do
 * not count. Key and value escapes are decoded ({@code "mo\u0064el"} is the model key); offsets are those
 * of the raw token.
 *
 * <p>The whole body is read, so that a body is only {@link State#FOUND} when it is one well-formed JSON
 * object with exactly one top-level model. <b>Two top-level {@code model} members are
 * {@link State#DUPLICATE}</b>, whatever their values: parsers disagree on which one wins (first or
 * last), so the backend might act on the other one than the gateway routed by; the gateway must refuse
 * such a body (400), not route it.
 *
 * <p>Thread-safe and stateless; client field names are not interned.
 */
public final class ModelScanner {

    /** What a body is, as far as its model goes. */
    public enum State {
        /** Not one well-formed JSON object (malformed, another JSON type, trailing data, not UTF-8, too deep). */
        NOT_JSON,
        /** A JSON object without a top-level {@code model} member. */
        NO_MODEL,
        /** A JSON object with a top-level {@code model} that is not a string ({@code null}, a number, an object...). */
        NOT_STRING,
        /** Exactly one top-level {@code model}, a string: {@link Result#found()} is set. */
        FOUND,
        /** Two or more top-level {@code model} members: refuse the body. */
        DUPLICATE
    }

    /**
     * The model's value, decoded, and where its JSON string token (quotes included) is in the body:
     * {@code [start, end)}, relative to the start of the bytes scanned ({@code readerIndex} for a ByteBuf).
     */
    public record Found(String value, int start, int end) {
        public Found {
            Objects.requireNonNull(value, "value");
            if (start < 0 || end < start + 2) {
                throw new IllegalArgumentException("bad token range " + start + ".." + end);
            }
        }
    }

    /** @param found non-null exactly when {@code state} is {@link State#FOUND} */
    public record Result(State state, Found found) {
        public Result {
            Objects.requireNonNull(state, "state");
            if ((found != null) != (state == State.FOUND)) {
                throw new IllegalArgumentException(state + (found == null ? " needs" : " has no") + " a Found");
            }
        }
    }

    private static final Result NOT_JSON = new Result(State.NOT_JSON, null);
    private static final Result NO_MODEL = new Result(State.NO_MODEL, null);
    private static final Result NOT_STRING = new Result(State.NOT_STRING, null);
    private static final Result DUPLICATE = new Result(State.DUPLICATE, null);

    /**
     * Client field names are not interned into the JVM's string table. Canonicalization stays on: without
     * it Jackson reads bytes through a Reader, and byte offsets are lost (its symbol table is bounded).
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private ModelScanner() {
    }

    /** The readable bytes of {@code body}; neither its indexes nor its reference count change. */
    public static Result scan(ByteBuf body) {
        int len = body.readableBytes();
        if (body.hasArray()) {
            return scan(body.array(), body.arrayOffset() + body.readerIndex(), len);
        }
        // Direct or composite: request bodies scanned for a model are small, one copy is cheaper than a stream.
        return scan(ByteBufUtil.getBytes(body, body.readerIndex(), len, false), 0, len);
    }

    public static Result scan(byte[] body) {
        return scan(body, 0, body.length);
    }

    /** Offsets in the result are relative to {@code offset}. */
    public static Result scan(byte[] body, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, body.length);
        try (JsonParser p = JSON.createParser(body, offset, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT || p.currentTokenLocation().getByteOffset() < 0) {
                return NOT_JSON; // no byte offsets: Jackson detected UTF-16 or UTF-32, which is not JSON on the wire
            }
            Found found = null;
            boolean model = false;
            boolean notString = false;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                boolean isModel = "model".equals(p.currentName());
                JsonToken v = p.nextToken();
                if (v == null) {
                    return NOT_JSON;
                }
                if (isModel) {
                    if (model) {
                        // Keep reading: a malformed body is NOT_JSON even when it also has two models.
                        p.skipChildren();
                        return rest(p) ? DUPLICATE : NOT_JSON;
                    }
                    model = true;
                    if (v == JsonToken.VALUE_STRING) {
                        long start = p.currentTokenLocation().getByteOffset();
                        String value = p.getText(); // decodes, and moves past the closing quote
                        long end = p.currentLocation().getByteOffset();
                        if (start < 0 || end < 0) {
                            return NOT_JSON; // not UTF-8 (Jackson read it as UTF-16/32: no byte offsets)
                        }
                        found = new Found(value, (int) start, (int) end);
                        continue;
                    }
                    notString = true;
                }
                p.skipChildren(); // no-op for scalars; large nested values are tokenized, never built
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                return NOT_JSON;
            }
            return notString ? NOT_STRING : found != null ? new Result(State.FOUND, found) : NO_MODEL;
        } catch (IOException | RuntimeException e) { // JsonParseException, StreamConstraintsException
            return NOT_JSON;
        }
    }

    /** After a duplicate: true if the rest of the object is well-formed and nothing follows it. */
    private static boolean rest(JsonParser p) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            if (p.nextToken() == null) {
                return false;
            }
            p.skipChildren();
        }
        return t == JsonToken.END_OBJECT && p.nextToken() == null;
    }

    /** The model of a body that has exactly one top-level string model, else null (see {@link #scan(ByteBuf)}). */
    public static Found find(ByteBuf body) {
        return scan(body).found();
    }

    public static Found find(byte[] body) {
        return scan(body).found();
    }

    /**
     * A new buffer with the body's model token replaced by {@code newValue}, JSON-quoted and escaped.
     * {@code f} must come from scanning {@code body} at its current {@code readerIndex}.
     *
     * <p>Ownership: the result is the caller's to release (once). It is a composite of retained slices of
     * {@code body} around the new token, so it holds its own references to {@code body}'s memory:
     * {@code body} is <em>not</em> released by this method, its indexes do not move, and the caller
     * releases it exactly as it would have without calling this (it may do so right away).
     */
    public static ByteBuf replace(ByteBufAllocator alloc, ByteBuf body, Found f, String newValue) {
        int from = body.readerIndex();
        int len = body.readableBytes();
        if (f.end() > len) {
            throw new IllegalArgumentException("token " + f.start() + ".." + f.end() + " beyond the body (" + len + " bytes)");
        }
        byte[] token = quote(newValue);
        CompositeByteBuf out = alloc.compositeBuffer(3);
        try {
            if (f.start() > 0) {
                out.addComponent(true, body.retainedSlice(from, f.start()));
            }
            ByteBuf value = alloc.buffer(token.length);
            value.writeBytes(token);
            out.addComponent(true, value);
            if (f.end() < len) {
                out.addComponent(true, body.retainedSlice(from + f.end(), len - f.end()));
            }
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** The same for a byte array: a new array. */
    public static byte[] replace(byte[] body, Found f, String newValue) {
        if (f.end() > body.length) {
            throw new IllegalArgumentException("token " + f.start() + ".." + f.end() + " beyond the body (" + body.length + " bytes)");
        }
        byte[] token = quote(newValue);
        byte[] out = new byte[body.length - (f.end() - f.start()) + token.length];
        System.arraycopy(body, 0, out, 0, f.start());
        System.arraycopy(token, 0, out, f.start(), token.length);
        System.arraycopy(body, f.end(), out, f.start() + token.length, body.length - f.end());
        return out;
    }

    /** {@code value} as a JSON string token in UTF-8, quotes included. */
    static byte[] quote(String value) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] token = new byte[inner.length + 2];
        token[0] = '"';
        System.arraycopy(inner, 0, token, 1, inner.length);
        token[token.length - 1] = '"';
        return token;
    }
}
