package io.sluice.core.provider;

/** Token counts as the provider reported them. */
public record Usage(long promptTokens, long completionTokens) {
    public long total() {
        return promptTokens + completionTokens;
    }
}
