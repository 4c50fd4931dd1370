package io.sluice.http;

import io.sluice.core.backend.Backend;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.SluiceConfig;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts simulated vLLM backends and a real Sluice for a test class, stopping both afterwards.
 *
 * <p>The YAML refers to simulator ports as {@code ${SIM0}}, {@code ${SIM1}}, …; they are bound to
 * ephemeral ports first, so test classes never collide on ports.
 */
final class SluiceExtension implements BeforeAllCallback, AfterAllCallback {
    private final String yaml;
    private final SimulatorOptions[] simOptions;
    private final List<VllmSimulator> sims = new ArrayList<>();
    private SluiceServer server;

    SluiceExtension(String yaml, SimulatorOptions... sims) {
        this.yaml = yaml;
        this.simOptions = sims;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        for (SimulatorOptions o : simOptions) {
            sims.add(VllmSimulator.start(o));
        }
        SluiceConfig config = ConfigLoader.parse(yaml, context.getDisplayName() + ".yaml", name -> {
            if (name.startsWith("SIM")) {
                return String.valueOf(sims.get(Integer.parseInt(name.substring(3))).port());
            }
            return System.getenv(name);
        });
        server = SluiceServer.start(config);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
        }
        sims.forEach(VllmSimulator::close);
    }

    int port() {
        return server.port();
    }

    SluiceServer server() {
        return server;
    }

    VllmSimulator sim(int i) {
        return sims.get(i);
    }

    /** The gateway's view of simulator i. */
    Backend backend(int i) {
        int port = sims.get(i).port();
        return server.pools().stream().flatMap(p -> p.backends().stream())
                .filter(b -> b.port() == port).findFirst().orElseThrow();
    }

    int totalInFlight() {
        return server.pools().stream().flatMap(p -> p.backends().stream()).mapToInt(Backend::inFlight).sum();
    }
}
