package io.sluice.sim;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** Immutable simulator settings; defaults match a small model on a lightly loaded vLLM. */
public final class SimulatorOptions {
    private final String host;
    private final int port;
    private final List<String> models;
    private final Duration ttft;
    private final Duration itl;
    private final int maxTokens;
    private final int maxNumSeqs;
    private final int maxModelLen;
    private final FailureMode failureMode;
    private final int resetAfterTokens;
    private final String transport;
    private final int ioThreads;
    private final int kvBlocks;
    private final Duration prefillPerToken;
    private final double batchSlowdown;
    private final boolean prefixCaching;

    private SimulatorOptions(Builder b) {
        host = Objects.requireNonNull(b.host, "host");
        port = check(b.port, 0, 65535, "port");
        models = List.copyOf(b.models);
        if (models.isEmpty()) {
            throw new IllegalArgumentException("models must not be empty");
        }
        ttft = nonNegative(b.ttft, "ttft");
        itl = nonNegative(b.itl, "itl");
        maxTokens = check(b.maxTokens, 1, Integer.MAX_VALUE, "maxTokens");
        maxNumSeqs = check(b.maxNumSeqs, 1, Integer.MAX_VALUE, "maxNumSeqs");
        maxModelLen = check(b.maxModelLen, 2, Integer.MAX_VALUE, "maxModelLen");
        failureMode = Objects.requireNonNull(b.failureMode, "failureMode");
        resetAfterTokens = check(b.resetAfterTokens, 0, Integer.MAX_VALUE, "resetAfterTokens");
        transport = Objects.requireNonNull(b.transport, "transport");
        ioThreads = check(b.ioThreads, 1, 1024, "ioThreads");
        kvBlocks = check(b.kvBlocks, 1, Integer.MAX_VALUE, "kvBlocks");
        prefillPerToken = nonNegative(b.prefillPerToken, "prefillPerToken");
        if (!(b.batchSlowdown >= 0 && b.batchSlowdown <= MAX_BATCH_SLOWDOWN)) { // also rejects NaN
            throw new IllegalArgumentException("batchSlowdown must be in [0, " + MAX_BATCH_SLOWDOWN + "], got "
                    + b.batchSlowdown);
        }
        batchSlowdown = b.batchSlowdown;
        prefixCaching = b.prefixCaching;
    }

    /** Each further running sequence may slow a step down by at most this fraction of a lone one. */
    public static final double MAX_BATCH_SLOWDOWN = 10.0;

    public static Builder builder() {
        return new Builder();
    }

    public static SimulatorOptions defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        return builder().host(host).port(port).models(models).ttft(ttft).itl(itl).maxTokens(maxTokens)
                .maxNumSeqs(maxNumSeqs).maxModelLen(maxModelLen).failureMode(failureMode)
                .resetAfterTokens(resetAfterTokens).transport(transport).ioThreads(ioThreads).kvBlocks(kvBlocks)
                .prefillPerToken(prefillPerToken).batchSlowdown(batchSlowdown).prefixCaching(prefixCaching);
    }

    public String host() { return host; }
    public int port() { return port; }
    /** Served names; the first is what responses report, the others are accepted aliases. */
    public List<String> models() { return models; }
    public Duration ttft() { return ttft; }
    public Duration itl() { return itl; }
    /** Natural output length (ending in EOS) when the request sets no lower max_tokens. */
    public int maxTokens() { return maxTokens; }
    public int maxNumSeqs() { return maxNumSeqs; }
    /** Context length reported by /v1/models and enforced on prompt + max_tokens. */
    public int maxModelLen() { return maxModelLen; }
    public FailureMode failureMode() { return failureMode; }
    public int resetAfterTokens() { return resetAfterTokens; }
    public String transport() { return transport; }
    public int ioThreads() { return ioThreads; }
    /** KV-cache capacity in blocks of {@value Prompt#BLOCK_SIZE} tokens, shared by running sequences and the prefix cache. */
    public int kvBlocks() { return kvBlocks; }
    /** Prefill time per uncached prompt token of a lone sequence; cached prefix tokens cost nothing. */
    public Duration prefillPerToken() { return prefillPerToken; }
    /**
     * How much each further running sequence slows a step: inter-token latency and prefill are multiplied by
     * {@code 1 + batchSlowdown * (running - 1)}.
     */
    public double batchSlowdown() { return batchSlowdown; }
    /** vLLM's automatic prefix caching ({@code --enable-prefix-caching}, on by default in v1). */
    public boolean prefixCaching() { return prefixCaching; }

    @Override
    public String toString() {
        return "SimulatorOptions{host=" + host + ", port=" + port + ", models=" + models + ", ttft=" + ttft
                + ", itl=" + itl + ", maxTokens=" + maxTokens + ", maxNumSeqs=" + maxNumSeqs + ", maxModelLen="
                + maxModelLen + ", failureMode=" + failureMode + ", resetAfterTokens=" + resetAfterTokens
                + ", transport=" + transport + ", ioThreads=" + ioThreads + ", kvBlocks=" + kvBlocks + ", prefillPerToken="
                + prefillPerToken + ", batchSlowdown=" + batchSlowdown + ", prefixCaching=" + prefixCaching + '}';
    }

    private static int check(int v, int min, int max, String name) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    private static Duration nonNegative(Duration d, String name) {
        if (Objects.requireNonNull(d, name).isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative");
        }
        return d;
    }

    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private List<String> models = List.of("demo");
        private Duration ttft = Duration.ofMillis(200);
        private Duration itl = Duration.ofMillis(20);
        private int maxTokens = 64;
        private int maxNumSeqs = 256;
        private int maxModelLen = 8192;
        private FailureMode failureMode = FailureMode.NONE;
        private int resetAfterTokens = 3;
        private String transport = "auto";
        private int ioThreads = 1;
        private int kvBlocks = 4096;
        private Duration prefillPerToken = Duration.ofNanos(200_000);
        private double batchSlowdown = 0.01;
        private boolean prefixCaching = true;

        private Builder() {
        }

        public Builder host(String v) { host = v; return this; }
        /** 0 picks an ephemeral port. */
        public Builder port(int v) { port = v; return this; }
        public Builder models(List<String> v) { models = List.copyOf(v); return this; }
        public Builder model(String v) { models = List.of(v); return this; }
        public Builder ttft(Duration v) { ttft = v; return this; }
        public Builder itl(Duration v) { itl = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder maxNumSeqs(int v) { maxNumSeqs = v; return this; }
        public Builder maxModelLen(int v) { maxModelLen = v; return this; }
        public Builder failureMode(FailureMode v) { failureMode = v; return this; }
        public Builder resetAfterTokens(int v) { resetAfterTokens = v; return this; }
        public Builder transport(String v) { transport = v; return this; }
        public Builder ioThreads(int v) { ioThreads = v; return this; }
        public Builder kvBlocks(int v) { kvBlocks = v; return this; }
        public Builder prefillPerToken(Duration v) { prefillPerToken = v; return this; }
        public Builder batchSlowdown(double v) { batchSlowdown = v; return this; }
        public Builder prefixCaching(boolean v) { prefixCaching = v; return this; }

        public SimulatorOptions build() {
            return new SimulatorOptions(this);
        }
    }
}
