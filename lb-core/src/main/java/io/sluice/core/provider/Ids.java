package io.sluice.core.provider;

import java.util.concurrent.ThreadLocalRandom;

/** Ids in OpenAI's style for answers and tool calls that the provider did not name. */
final class Ids {
    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private Ids() {
    }

    static String completion() {
        return "chatcmpl-" + random(24);
    }

    static String toolCall() {
        return "call_" + random(24);
    }

    private static String random(int n) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = ALPHABET[r.nextInt(ALPHABET.length)];
        }
        return new String(c);
    }
}
