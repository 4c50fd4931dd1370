package io.sluice.http.route;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** How a request body becomes prefix block hashes and a session key. */
class AffinityKeysTest {

    static <T> T with(String json, Function<ByteBuf, T> f) {
        ByteBuf b = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return f.apply(b);
        } finally {
            b.release();
        }
    }

    static long[] blocks(String json) {
        return with(json, b -> AffinityKeys.prefixBlocks(b, 8, 4));
    }

    @Test
    void messagesAreRenderedInOrderAndHashesChainOverThePrefix() {
        // "system: You are terse.\n" = 23 chars; then the user turn. 8-char blocks, at most 4.
        long[] a = blocks("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},"
                + "{\"role\":\"user\",\"content\":\"first question\"}]}");
        long[] b = blocks("{\"messages\":[{\"content\":\"You are terse.\",\"role\":\"system\"},"
                + "{\"role\":\"user\",\"content\":\"other question\"}],\"model\":\"m\"}");
        assertEquals(4, a.length);
        assertArrayEquals(Arrays.copyOf(a, 2), Arrays.copyOf(b, 2), "same system prompt: same leading blocks");
        assertNotEquals(a[3], b[3]);
        // Block 2 ("terse.\nu") is equal too; block 3 covers the user turn.
        assertEquals(a[2], b[2]);
    }

    @Test
    void contentPartsAndCompletionPromptsCount() {
        long[] parts = blocks("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hello \"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}},{\"type\":\"text\",\"text\":\"world, how are you\"}]}]}");
        long[] plain = blocks("{\"messages\":[{\"role\":\"user\",\"content\":\"hello world, how are you\"}]}");
        assertArrayEquals(plain, parts);
        long[] prompt = blocks("{\"prompt\":\"0123456789abcdef\"}");
        assertEquals(2, prompt.length);
        assertArrayEquals(prompt, blocks("{\"prompt\":\"0123456789abcdefXYZ\"}"), "a partial last block does not count");
    }

    @Test
    void aBodyThatIsNotJsonOrHasNoPromptHasNoPrefix() {
        assertNull(blocks("not json at all"));
        assertNull(blocks("[1,2,3]"));
        assertNull(blocks("{\"model\":\"m\"}"));
        assertNull(blocks("{\"prompt\":\"short\"}"));
        assertNull(blocks("{\"messages\":[{\"role\":\"user\",\"content\":\"truncated"));
    }

    @Test
    void theSessionKeyIsTheTopLevelUser() {
        assertEquals("alice", with("{\"model\":\"m\",\"metadata\":{\"user\":\"x\"},\"user\":\"alice\"}", AffinityKeys::user));
        assertNull(with("{\"model\":\"m\"}", AffinityKeys::user));
        assertNull(with("nope", AffinityKeys::user));
    }
}
