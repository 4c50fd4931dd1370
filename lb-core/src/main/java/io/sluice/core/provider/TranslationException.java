package io.sluice.core.provider;

/**
 * A request (or response) that cannot be translated without losing something the client asked for:
 * answered with 400 and this message, never silently dropped.
 */
public final class TranslationException extends RuntimeException {
    private final String param;

    /** @param param the request field at fault (OpenAI's {@code param}), or null */
    public TranslationException(String message, String param) {
        super(message, null, false, false);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
