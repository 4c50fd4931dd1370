package io.sluice.sim;

import java.util.Locale;

/** Backend failures a load balancer must survive, switchable at runtime. */
public enum FailureMode {
    /** Serve normally. */
    NONE,
    /** Listening socket closed and open connections dropped: connects are refused at the TCP level. */
    REFUSE,
    /** Streams are cut with a TCP RST after a few tokens; non-streaming requests are reset before any response. */
    RESET_MID_STREAM,
    /** Requests are read but never answered, /health included. */
    HANG,
    /**
     * Every API request fails at once with a 500 in vLLM's error shape while {@code /health} still
     * answers 200: the fast-failing backend that least-connections would otherwise favour.
     */
    ERROR_500;

    /** Accepts CLI spellings: {@code none}, {@code refuse}, {@code reset-mid-stream}, {@code hang}. */
    public static FailureMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown failure mode '" + text + "' (none, refuse, reset-mid-stream, hang, error-500)");
        }
    }
}
