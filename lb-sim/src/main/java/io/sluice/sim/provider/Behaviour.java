package io.sluice.sim.provider;

import java.util.List;
import java.util.Locale;

/**
 * Scripted upstream behaviour, chosen by the requested model name (see {@link ProviderSimulator}).
 * Ollama-style tags ({@code rate-limited:latest}) and Gemini resource names ({@code models/slow}) select
 * the same behaviour as the bare name.
 */
enum Behaviour {
    NORMAL, RATE_LIMITED, SERVER_ERROR, FAIL_MID_STREAM, ERROR_MID_STREAM, TOOL_CALL, MULTIBYTE, SLOW;

    /** Content events sent before {@code fail-mid-stream} cuts or {@code error-mid-stream} reports an error. */
    static final int EVENTS_BEFORE_FAILURE = 2;
    static final String MULTIBYTE_REPLY = "Grüße, 世界! 👋🏽 ok";
    /**
     * Pieces of {@link #MULTIBYTE_REPLY} as a BPE tokenizer might cut it: inside a word and between the
     * two code points of one emoji grapheme, but never inside a code point.
     */
    static final List<String> MULTIBYTE_PIECES = List.of("Gr", "üße", ",", " 世", "界", "!", " 👋", "🏽", " ok");
    static final String TOOL_ARGUMENTS = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";
    /** {@link #TOOL_ARGUMENTS} in the argument deltas of formats that stream them. */
    static final List<String> TOOL_ARGUMENT_PIECES = List.of("{\"city\":", "\"Paris\",", "\"unit\":", "\"celsius\"}");
    static final String FALLBACK_TOOL = "get_weather";

    static Behaviour of(String model) {
        if (model == null) {
            return NORMAL;
        }
        String m = model.toLowerCase(Locale.ROOT);
        if (m.startsWith("models/")) {
            m = m.substring("models/".length());
        }
        if (m.endsWith(":latest")) {
            m = m.substring(0, m.length() - ":latest".length());
        }
        switch (m) {
            case "rate-limited": return RATE_LIMITED;
            case "server-error": return SERVER_ERROR;
            case "fail-mid-stream": return FAIL_MID_STREAM;
            case "error-mid-stream": return ERROR_MID_STREAM;
            case "tool-call": return TOOL_CALL;
            case "multibyte": return MULTIBYTE;
            case "slow": return SLOW;
            default: return NORMAL;
        }
    }

    /** Text pieces this behaviour generates from the configured reply. */
    List<String> pieces(String reply) {
        return this == MULTIBYTE ? MULTIBYTE_PIECES : split(reply);
    }

    Reply.Pace pace(ProviderSimOptions options) {
        return new Reply.Pace(options.ttft(), this == SLOW ? java.time.Duration.ofMillis(200) : options.itl(),
                this == MULTIBYTE);
    }

    /** About one word per piece, each word after the first carrying its leading whitespace. */
    static List<String> split(String text) {
        List<String> out = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 1; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i)) && !Character.isWhitespace(text.charAt(i - 1))) {
                out.add(text.substring(start, i));
                start = i;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }

    /** The deterministic prompt-token count: whitespace-separated words. */
    static int words(String s) {
        int n = 0;
        boolean in = false;
        for (int i = 0; i < s.length(); i++) {
            boolean space = Character.isWhitespace(s.charAt(i));
            if (!space && !in) {
                n++;
            }
            in = !space;
        }
        return n;
    }
}
