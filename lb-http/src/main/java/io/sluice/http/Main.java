package io.sluice.http;

import io.netty.util.ResourceLeakDetector;
import io.sluice.core.config.ConfigException;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.SluiceConfig;
import io.sluice.http.server.SluiceServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice [--config FILE]} runs the gateway; {@code sluice --check FILE} only validates. */
@Command(name = "sluice", mixinStandardHelpOptions = true,
        description = "Edge gateway and L7 load balancer for LLM inference.")
public final class Main implements Callable<Integer> {
    /** Exit code for an invalid configuration (as nginx -t and haproxy -c use non-zero). */
    public static final int EXIT_CONFIG = 2;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config (default: ${DEFAULT-VALUE})")
    Path config = Path.of("config/sluice.yaml");

    @Option(names = "--check", paramLabel = "FILE", description = "Validate FILE and exit: 0 if valid, 2 if not.")
    Path check;

    /** A training run for the class-data-sharing archive bin/run makes: start (warm-up included), stop, exit 0. */
    @Option(names = "--exit-after-start", hidden = true)
    boolean exitAfterStart;

    public static void main(String[] args) {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty samples 1 buffer in 128 with a stack trace by default: about 1% of the CPU of a
            // busy proxy. The tests run at "paranoid"; set the property to turn it back on in production.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path file = check != null ? check : config;
        SluiceConfig cfg;
        try {
            cfg = ConfigLoader.load(file);
        } catch (ConfigException e) {
            System.err.println("sluice: invalid configuration\n" + e.getMessage());
            return EXIT_CONFIG;
        }
        if (check != null) {
            System.out.println(file + ": OK (" + cfg.listeners().size() + " listener(s), "
                    + cfg.pools().size() + " pool(s))");
            return 0;
        }
        if (exitAfterStart) {
            SluiceServer.start(cfg).drainAndClose();
            return 0;
        }
        ReloadSignal.install();
        SluiceServer server = SluiceServer.start(cfg);
        ReloadSignal.started(server);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.drainAndClose();
            stopped.countDown();
            // SIGTERM is the normal way to stop a server: a clean drain exits 0, not 143.
            Runtime.getRuntime().halt(0);
        }, "sluice-shutdown"));
        stopped.await();
        return 0;
    }
}
