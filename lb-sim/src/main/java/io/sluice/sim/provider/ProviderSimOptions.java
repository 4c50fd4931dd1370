package io.sluice.sim.provider;

import io.sluice.sim.provider.ProviderSimulator.Format;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one {@link ProviderSimulator}.
 *
 * @param apiKey the only key accepted (ignored by {@link Format#OLLAMA}, which has no authentication)
 * @param models listed by the format's model-listing endpoint; requests may name any model
 * @param reply the text every normal generation streams, split into about one word per event
 * @param ttft delay before the first content event
 * @param itl delay between content events
 */
public record ProviderSimOptions(Format format, String host, int port, String apiKey, List<String> models,
                                 String reply, Duration ttft, Duration itl) {
    public ProviderSimOptions {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        Objects.requireNonNull(apiKey, "apiKey");
        models = List.copyOf(models);
        if (models.isEmpty()) {
            throw new IllegalArgumentException("models must not be empty");
        }
        Objects.requireNonNull(reply, "reply");
        if (Objects.requireNonNull(ttft, "ttft").isNegative() || Objects.requireNonNull(itl, "itl").isNegative()) {
            throw new IllegalArgumentException("ttft and itl must not be negative");
        }
    }

    /** Defaults for {@code format}: 127.0.0.1, an ephemeral port, key "sim-key", ttft 20ms, itl 5ms. */
    public static ProviderSimOptions defaults(Format format) {
        return builder(format).build();
    }

    public static Builder builder(Format format) {
        return new Builder(format);
    }

    public Builder toBuilder() {
        return new Builder(format).host(host).port(port).apiKey(apiKey).models(models).reply(reply).ttft(ttft).itl(itl);
    }

    /** The model a format lists first when none are configured. */
    public static String defaultModel(Format format) {
        switch (format) {
            case OPENAI: return "gpt-4o-mini";
            case ANTHROPIC: return "claude-sonnet-4-5-20250929";
            case GEMINI: return "gemini-2.0-flash";
            default: return "llama3.2:latest";
        }
    }

    /** "Hello from the OpenAI simulator." and so on: five or six pieces. */
    public static String defaultReply(Format format) {
        return "Hello from the " + format.displayName() + " simulator.";
    }

    public static final class Builder {
        private final Format format;
        private String host = "127.0.0.1";
        private int port;
        private String apiKey = "sim-key";
        private List<String> models;
        private String reply;
        private Duration ttft = Duration.ofMillis(20);
        private Duration itl = Duration.ofMillis(5);

        private Builder(Format format) {
            this.format = Objects.requireNonNull(format, "format");
            this.models = List.of(defaultModel(format));
            this.reply = defaultReply(format);
        }

        public Builder host(String v) { host = v; return this; }
        /** 0 picks an ephemeral port. */
        public Builder port(int v) { port = v; return this; }
        public Builder apiKey(String v) { apiKey = v; return this; }
        public Builder models(List<String> v) { models = List.copyOf(v); return this; }
        public Builder model(String v) { models = List.of(v); return this; }
        public Builder reply(String v) { reply = v; return this; }
        public Builder ttft(Duration v) { ttft = v; return this; }
        public Builder itl(Duration v) { itl = v; return this; }

        public ProviderSimOptions build() {
            return new ProviderSimOptions(format, host, port, apiKey, models, reply, ttft, itl);
        }
    }
}
