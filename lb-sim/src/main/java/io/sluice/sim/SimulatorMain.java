package io.sluice.sim;

import io.sluice.core.config.Durations;
import io.sluice.sim.provider.ProviderSimOptions;
import io.sluice.sim.provider.ProviderSimulator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the simulator as a standalone process until SIGTERM / SIGINT. */
@Command(name = "lb-sim", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Simulated vLLM OpenAI-compatible server for load-balancer tests and benchmarks.",
            "With --provider, a simulated cloud or local LLM provider instead (OpenAI, Anthropic, Gemini or Ollama wire format)."})
public final class SimulatorMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(SimulatorMain.class);

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = {"--model", "--served-model-name"}, defaultValue = "demo", split = ",",
            description = "Served model name(s); the first is reported in responses (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--ttft", defaultValue = "200ms", converter = DurationConverter.class,
            description = "Time to first token (default: ${DEFAULT-VALUE}).")
    Duration ttft;

    @Option(names = "--itl", defaultValue = "20ms", converter = DurationConverter.class,
            description = "Inter-token latency (default: ${DEFAULT-VALUE}).")
    Duration itl;

    @Option(names = "--max-tokens", defaultValue = "64",
            description = "Output length when the request sets no smaller max_tokens (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--max-num-seqs", defaultValue = "256",
            description = "Concurrently running sequences; the rest wait (default: ${DEFAULT-VALUE}).")
    int maxNumSeqs;

    @Option(names = {"--kv-blocks", "--num-gpu-blocks-override"}, defaultValue = "4096",
            description = "KV-cache capacity in blocks of 16 tokens (default: ${DEFAULT-VALUE}).")
    int kvBlocks;

    @Option(names = "--prefill-per-token", defaultValue = "200us", converter = DurationConverter.class,
            description = "Prefill time per prompt token missing from the prefix cache (default: ${DEFAULT-VALUE}).")
    Duration prefillPerToken;

    @Option(names = "--batch-slowdown", defaultValue = "0.01",
            description = "Each further running sequence slows prefill and decoding by this fraction (default: ${DEFAULT-VALUE}).")
    double batchSlowdown;

    @Option(names = "--prefix-caching", defaultValue = "true", arity = "1",
            description = "true or false: vLLM's automatic prefix caching (default: ${DEFAULT-VALUE}).")
    boolean prefixCaching;

    @Option(names = "--max-model-len", defaultValue = "8192", description = "Context length (default: ${DEFAULT-VALUE}).")
    int maxModelLen;

    @Option(names = "--dtype", defaultValue = "auto",
            description = "Accepted and ignored, as vLLM's option, so the simulator launches from the same command template.")
    String dtype;

    @Option(names = "--fail-mode", defaultValue = "none", converter = FailureModeConverter.class,
            description = "none, refuse, reset-mid-stream or hang (default: ${DEFAULT-VALUE}).")
    FailureMode failMode;

    @Option(names = "--reset-after-tokens", defaultValue = "3",
            description = "Content chunks sent before reset-mid-stream cuts a stream (default: ${DEFAULT-VALUE}).")
    int resetAfterTokens;

    @Option(names = "--transport", defaultValue = "auto",
            description = "auto, epoll, io_uring or nio (default: ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--io-threads", defaultValue = "1", description = "Event loop threads (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--provider", converter = FormatConverter.class,
            description = "openai, anthropic, gemini or ollama: simulate that provider's API instead of vLLM. "
                    + "--model, --ttft and --itl then default to the provider simulator's own defaults.")
    ProviderSimulator.Format provider;

    @Option(names = "--api-key", defaultValue = "sim-key",
            description = "Key the provider simulator accepts (default: ${DEFAULT-VALUE}; Ollama takes none).")
    String apiKey;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        int code = new CommandLine(new SimulatorMain())
                .setParameterExceptionHandler(SimulatorMain::shortUsageError)
                .execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        if (provider != null) {
            return runProvider();
        }
        VllmSimulator sim = VllmSimulator.start(SimulatorOptions.builder()
                .host(host).port(port).models(models).ttft(ttft).itl(itl).maxTokens(maxTokens)
                .maxNumSeqs(maxNumSeqs).maxModelLen(maxModelLen).failureMode(failMode)
                .resetAfterTokens(resetAfterTokens).transport(transport).ioThreads(ioThreads).kvBlocks(kvBlocks)
                .prefillPerToken(prefillPerToken).batchSlowdown(batchSlowdown).prefixCaching(prefixCaching).build());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sim.close();
            stopped.countDown();
        }, "lb-sim-shutdown"));
        log.info("vLLM simulator listening on {} (models {}, ttft {}, itl {}, max-tokens {}, max-num-seqs {}, kv-blocks {},"
                        + " prefill-per-token {}, batch-slowdown {}, prefix-caching {}, fail-mode {})",
                sim.baseUrl(), models, Durations.format(ttft), Durations.format(itl), maxTokens, maxNumSeqs, kvBlocks,
                prefillPerToken.toNanos() / 1000 + "us", batchSlowdown, prefixCaching,
                failMode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        stopped.await(); // event loop threads are daemons; the shutdown hook releases us
        return 0;
    }

    private Integer runProvider() throws InterruptedException {
        ProviderSimOptions options = providerOptions();
        ProviderSimulator sim = ProviderSimulator.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sim.close();
            stopped.countDown();
        }, "lb-sim-shutdown"));
        log.info("{} simulator listening on {} (models {}, ttft {}, itl {})", provider.displayName(), sim.baseUrl(),
                options.models(), Durations.format(options.ttft()), Durations.format(options.itl()));
        stopped.await();
        return 0;
    }

    /** The provider simulator's settings: its own defaults except where the command line set a shared option. */
    ProviderSimOptions providerOptions() {
        ProviderSimOptions.Builder b = ProviderSimOptions.builder(provider).host(host).port(port).apiKey(apiKey);
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        if (parsed.hasMatchedOption("--model")) {
            b.models(models);
        }
        if (parsed.hasMatchedOption("--ttft")) {
            b.ttft(ttft);
        }
        if (parsed.hasMatchedOption("--itl")) {
            b.itl(itl);
        }
        return b.build();
    }

    /**
     * A mistaken option gets its error and one hint, not the whole help: the help grew long enough that a
     * supervisor keeping only the last lines of output (the admin API's inference launcher) lost the error.
     */
    static int shortUsageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        java.io.PrintWriter err = cmd.getErr();
        err.println(ex.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Run with --help for the options.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    static final class FormatConverter implements CommandLine.ITypeConverter<ProviderSimulator.Format> {
        @Override
        public ProviderSimulator.Format convert(String value) {
            return ProviderSimulator.Format.parse(value);
        }
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Durations.parse(value);
        }
    }

    static final class FailureModeConverter implements CommandLine.ITypeConverter<FailureMode> {
        @Override
        public FailureMode convert(String value) {
            return FailureMode.parse(value);
        }
    }
}
