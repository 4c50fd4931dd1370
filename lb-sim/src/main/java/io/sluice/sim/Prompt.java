package io.sluice.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A prompt's token identities as the prefix cache sees them: a deterministic stand-in for the chat
 * template and tokenizer, cut into blocks whose hashes are chained like vLLM's, so two prompts share
 * cached blocks exactly as far as their token prefixes agree.
 *
 * <p>Chat messages render in order as {@code role\ncontent\n} and split on whitespace; each token is
 * hashed. Block {@code i}'s hash covers its {@link #BLOCK_SIZE} tokens and block {@code i-1}'s hash
 * (vLLM's {@code hash_block_tokens(parent_block_hash, block_tokens)}), so a block is reused only after the
 * same whole prefix. Only full blocks have hashes: vLLM caches no partial block.
 *
 * @param tokens      tokens of the rendered prompt (role names included, so it can exceed the usage count)
 * @param blockHashes chained hashes of the full blocks, in order
 */
record Prompt(int tokens, long[] blockHashes) {
    /** vLLM's default {@code --block-size}. */
    static final int BLOCK_SIZE = 16;

    static Prompt ofChat(JsonNode messages) {
        List<Long> tokens = new ArrayList<>();
        for (JsonNode m : messages) {
            words(m.path("role").asText(""), tokens);
            JsonNode content = m.get("content");
            if (content == null) {
                continue;
            }
            if (content.isTextual()) {
                words(content.asText(), tokens);
            } else if (content.isArray()) {
                for (JsonNode part : content) {
                    words(part.path("text").asText(""), tokens);
                }
            }
        }
        return of(tokens);
    }

    /** A completions prompt: its words, or token ids as given. */
    static Prompt ofText(JsonNode prompt) {
        List<Long> tokens = new ArrayList<>();
        if (prompt != null && prompt.isArray()) {
            for (JsonNode p : prompt) {
                if (p.isNumber()) {
                    tokens.add(mix(p.asLong() ^ 0x5bd1e995L));
                } else if (p.isArray()) {
                    for (JsonNode id : p) {
                        tokens.add(mix(id.asLong() ^ 0x5bd1e995L));
                    }
                } else {
                    words(p.asText(), tokens);
                }
            }
        } else if (prompt != null) {
            words(prompt.asText(), tokens);
        }
        return of(tokens);
    }

    static Prompt of(List<Long> tokenHashes) {
        long[] blocks = new long[tokenHashes.size() / BLOCK_SIZE];
        long parent = 0x9e3779b97f4a7c15L; // vLLM seeds the chain with a fixed "none" hash
        for (int b = 0; b < blocks.length; b++) {
            long h = parent;
            for (int i = b * BLOCK_SIZE, end = i + BLOCK_SIZE; i < end; i++) {
                h = mix(h * 31 + tokenHashes.get(i));
            }
            blocks[b] = h;
            parent = h;
        }
        return new Prompt(tokenHashes.size(), blocks);
    }

    /** Blocks a sequence of {@code tokens} occupies. */
    static int blocksFor(long tokens) {
        return (int) Math.min(Integer.MAX_VALUE, (tokens + BLOCK_SIZE - 1) / BLOCK_SIZE);
    }

    private static void words(String s, List<Long> out) {
        int start = -1;
        for (int i = 0; i <= s.length(); i++) {
            boolean space = i == s.length() || Character.isWhitespace(s.charAt(i));
            if (!space && start < 0) {
                start = i;
            } else if (space && start >= 0) {
                long h = 0xcbf29ce484222325L; // FNV-1a over the UTF-16 units, then mixed
                for (int j = start; j < i; j++) {
                    h = (h ^ s.charAt(j)) * 0x100000001b3L;
                }
                out.add(mix(h));
                start = -1;
            }
        }
    }

    /** SplitMix64's finalizer: spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
