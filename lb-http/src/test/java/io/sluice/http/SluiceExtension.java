package io.sluice.http;

import io.sluice.admin.AdminContext.ListenerInfo;
import io.sluice.core.backend.Backend;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.observe.ExchangeObserver;
import io.sluice.http.server.Reloader;
import io.sluice.http.server.SluiceServer;
import io.sluice.sim.SimulatorOptions;
import io.sluice.sim.VllmSimulator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Sluice for a test, with what it proxies to: simulated vLLM backends, servers of the test's
 * own, files in a temporary directory, variables for the config, observers of exchanges. Everything
 * is started before the tests of the class (or before each test method, see {@link Builder#perMethod()})
 * and stopped afterwards, in reverse order, whatever happened.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final SluiceExtension sluice = SluiceExtension.builder()
 *         .backend("REC", RecordingBackend::new, RecordingBackend::port)
 *         .simulators(SimulatorOptions.defaults())
 *         .file("keys.txt", "alice sk-alice-0123456789\n")
 *         .env("TEAM", "ml")
 *         .observer(exchanges::add)
 *         .yaml("""
 *                 listeners: [ { host: 127.0.0.1, port: 0, auth: { keys-file: "${DIR}/keys.txt" }, routes: ... } ]
 *                 pools: { p: { backends: [ { url: "http://127.0.0.1:${SIM0}" }, { url: "http://127.0.0.1:${REC}" } ] } }
 *                 """)
 *         .build();
 * }</pre>
 *
 * <p>Variables, in the config's own {@code ${NAME}} / {@code ${NAME:-default}} syntax:
 * {@code ${SIM0}}, {@code ${SIM1}}, … the port of each simulator; {@code ${name}} the value of each
 * {@link Builder#backend backend} (its port, say); {@code ${DIR}} the temporary directory; and every
 * {@link Builder#env env} entry (whose value may itself name the others). The process environment is never changed. The extension substitutes
 * them into the text of the config file it writes ({@code ${DIR}/sluice.yaml}), as {@code envsubst}
 * would before a deployment, and starts Sluice from that file; any other reference is left to the
 * config loader, which reads the process environment as in production. So the file reloads
 * ({@link #reload(String)}, the admin endpoint, SIGHUP) with the same values, and its line numbers
 * are the YAML's own. Values are substituted as text: keep them free of quotes and line breaks.
 */
final class SluiceExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private static final Pattern REF = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    /** Starts something a test needs before Sluice; an {@link AutoCloseable} one is closed after Sluice. */
    @FunctionalInterface
    interface Starter<T> {
        T start() throws Exception;
    }

    /** Writes files into the temporary directory before anything starts. */
    @FunctionalInterface
    interface DirSetup {
        void write(Path dir) throws Exception;
    }

    private record Named<T>(String name, Starter<T> starter, Function<? super T, ?> value) {
    }

    private final String yaml;
    private final String fileName;
    private final List<SimulatorOptions> simOptions;
    private final List<Named<?>> backendStarters;
    private final Map<String, String> env;
    private final List<DirSetup> files;
    private final List<ExchangeObserver> observers;
    private final boolean perMethod;

    private Path dir;
    private Path configFile;
    private final Map<String, String> vars = new LinkedHashMap<>();
    private final List<VllmSimulator> sims = new ArrayList<>();
    private final Map<String, Object> backends = new LinkedHashMap<>();
    private SluiceServer server;
    private boolean serverClosed;
    private boolean startedForClass;
    private boolean startedForMethod;

    /** The short form: a YAML and the simulators it names as {@code ${SIM0}}, … */
    SluiceExtension(String yaml, SimulatorOptions... sims) {
        this(builder().yaml(yaml).simulators(sims));
    }

    private SluiceExtension(Builder b) {
        this.yaml = Objects.requireNonNull(b.yaml, "yaml(...) or configFile(...) is required");
        this.fileName = b.fileName;
        this.simOptions = List.copyOf(b.simOptions);
        this.backendStarters = List.copyOf(b.backends);
        this.env = Map.copyOf(b.env);
        this.files = List.copyOf(b.files);
        this.observers = List.copyOf(b.observers);
        this.perMethod = b.perMethod;
    }

    static Builder builder() {
        return new Builder();
    }

    static final class Builder {
        private String yaml;
        private String fileName = "sluice.yaml";
        private final List<SimulatorOptions> simOptions = new ArrayList<>();
        private final List<Named<?>> backends = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<DirSetup> files = new ArrayList<>();
        private final List<ExchangeObserver> observers = new ArrayList<>();
        private boolean perMethod;

        private Builder() {
        }

        /** The config, with variables (see the class comment). */
        Builder yaml(String yaml) {
            this.yaml = yaml;
            return this;
        }

        /** The config from a file, with variables; it is copied, under its own name, into the temporary directory. */
        Builder configFile(Path file) {
            try {
                this.yaml = Files.readString(file);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + file, e);
            }
            this.fileName = file.getFileName().toString();
            return this;
        }

        /** Simulated vLLM backends, {@code ${SIM0}}, {@code ${SIM1}}, … in this order (appends). */
        Builder simulators(SimulatorOptions... options) {
            simOptions.addAll(List.of(options));
            return this;
        }

        /**
         * A server of the test's own, started before the simulators and Sluice and closed after them
         * (when it is {@link AutoCloseable}); {@code ${name}} is {@code value} of it, e.g. its port.
         */
        <T> Builder backend(String name, Starter<T> starter, Function<? super T, ?> value) {
            backends.add(new Named<>(name, starter, value));
            return this;
        }

        /** A variable for the config; the process environment is not changed. */
        Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** A file in the temporary directory, {@code ${DIR}/name} in the config. */
        Builder file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        Builder file(String name, byte[] content) {
            byte[] copy = content.clone();
            files.add(dir -> Files.write(dir.resolve(name), copy));
            return this;
        }

        /** Files made by code (certificates, say), written into the temporary directory before anything starts. */
        Builder files(DirSetup writer) {
            files.add(writer);
            return this;
        }

        /** Told about every finished exchange from Sluice's start on. */
        Builder observer(ExchangeObserver observer) {
            observers.add(observer);
            return this;
        }

        /**
         * Everything (directory, backends, simulators, Sluice) afresh for each test method rather than
         * once for the class. Implied when the extension is registered on an instance field.
         */
        Builder perMethod() {
            perMethod = true;
            return this;
        }

        SluiceExtension build() {
            return new SluiceExtension(this);
        }
    }

    // ---- lifecycle

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!perMethod) {
            start(context);
            startedForClass = true;
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (!startedForClass) { // per method, or an instance field (no class callbacks)
            start(context);
            startedForMethod = true;
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (startedForMethod) {
            startedForMethod = false;
            stop();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (startedForClass) {
            startedForClass = false;
            stop();
        }
    }

    private void start(ExtensionContext context) throws Exception {
        try {
            dir = Files.createTempDirectory("sluice-" + context.getRequiredTestClass().getSimpleName() + "-");
            vars.clear();
            vars.putAll(env);
            vars.put("DIR", dir.toString());
            for (DirSetup f : files) {
                f.write(dir);
            }
            for (Named<?> b : backendStarters) {
                startBackend(b);
            }
            for (SimulatorOptions o : simOptions) {
                VllmSimulator sim = VllmSimulator.start(o);
                vars.put("SIM" + sims.size(), String.valueOf(sim.port()));
                sims.add(sim);
            }
            for (Map.Entry<String, String> e : env.entrySet()) { // an env value may name ${DIR}, a backend's port...
                vars.put(e.getKey(), substitute(e.getValue()));
            }
            configFile = dir.resolve(fileName);
            writeConfig(yaml);
            serverClosed = false;
            server = SluiceServer.start(ConfigLoader.load(configFile));
            observers.forEach(server::addObserver);
        } catch (Exception | Error e) {
            try {
                stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private <T> void startBackend(Named<T> b) throws Exception {
        T started = b.starter().start();
        backends.put(b.name(), started);
        vars.put(b.name(), String.valueOf(b.value().apply(started)));
    }

    private void stop() throws Exception {
        List<Exception> failures = new ArrayList<>();
        try {
            close();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        server = null;
        sims.forEach(VllmSimulator::close);
        sims.clear();
        List<Object> started = new ArrayList<>(backends.values());
        backends.clear();
        for (int i = started.size() - 1; i >= 0; i--) {
            if (started.get(i) instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    failures.add(e);
                }
            }
        }
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                failures.add(e);
            }
            dir = null;
        }
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    // ---- what tests use

    SluiceServer server() {
        return server;
    }

    /** The first listener's port. */
    int port() {
        return server.port();
    }

    int port(String listener) {
        return server.port(listener);
    }

    /** {@code path} on the first listener, {@code https} when it terminates TLS. */
    URI uri(String path) {
        ListenerInfo l = server.listeners().get(0);
        String host = l.host().contains(":") ? "[" + l.host() + "]" : l.host();
        return URI.create((l.protocol().startsWith("tls") ? "https" : "http") + "://" + host + ":" + l.port() + path);
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

    /** What {@link Builder#backend} {@code name} started. */
    @SuppressWarnings("unchecked")
    <T> T backend(String name) {
        Object b = backends.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no backend " + name + " (started: " + backends.keySet() + ")");
        }
        return (T) b;
    }

    int totalInFlight() {
        return server.pools().stream().flatMap(p -> p.backends().stream()).mapToInt(Backend::inFlight).sum();
    }

    /** The temporary directory, {@code ${DIR}}. */
    Path dir() {
        return dir;
    }

    /** A file in the temporary directory. */
    Path file(String name) {
        return dir.resolve(name);
    }

    /** The config file Sluice was started from, and reloads. */
    Path configFile() {
        return configFile;
    }

    /** Replaces the config file (variables substituted as at the start); nothing is reloaded yet. */
    void writeConfig(String yaml) throws IOException {
        Files.writeString(configFile, substitute(yaml));
    }

    /** Replaces the config file and reloads it, as SIGHUP would. */
    Reloader.Result reload(String yaml) throws Exception {
        writeConfig(yaml);
        return server.reload();
    }

    /** Stops Sluice now (to read what it flushes on close, say); the extension does not close it again. */
    void close() {
        if (server != null && !serverClosed) {
            serverClosed = true;
            server.close();
        }
    }

    /** {@link SluiceServer#drainAndClose()}; the extension does not close Sluice again. */
    void drainAndClose() {
        if (server != null && !serverClosed) {
            serverClosed = true;
            server.drainAndClose();
        }
    }

    /** The extension's variables in {@code text}; {@code $$} and unknown names are left to the config loader. */
    String substitute(String text) {
        Matcher m = REF.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String name = m.group(1);
            String v = name == null ? null : vars.get(name);
            if (v == null) {
                m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
                continue;
            }
            if (v.isEmpty() && m.group(2) != null) {
                v = m.group(2);
            }
            if (v.contains("\n") || v.contains("\"")) {
                throw new IllegalArgumentException("${" + name + "} = '" + v + "': no quotes or line breaks");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }
}
