package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sluice.core.config.ConfigException;
import io.sluice.core.config.ConfigLoader;
import io.sluice.core.config.ListenerConfig;
import io.sluice.core.config.SluiceConfig;
import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code deploy/kubernetes/} is wired together and to Sluice: read with Jackson's YAML parser (no kubectl
 * here), the ConfigMap's YAML goes through {@link ConfigLoader} with the environment the Deployment gives
 * the container (the Secret's values), ports, names and labels match across the objects, and a gateway
 * started from that very config answers the probes' path over a real socket, without credentials, as
 * a kubelet would ask it.
 */
class KubernetesManifestsTest {
    static final Path DIR = Path.of("../deploy/kubernetes");
    static final YAMLMapper YAML = new YAMLMapper();
    static final Pattern REF = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?}");
    static final Pattern DNS_BACKEND = Pattern.compile("([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.cluster\\.local:(\\d+)");
    static final String ADMIN_TOKEN = "k8s-test-admin-token-0123456789";
    static final String CLIENT_KEY = "sk-k8s-test-0123456789abcdef";

    static final JsonNode DEPLOYMENT = manifest("deployment.yaml");
    static final JsonNode POD = DEPLOYMENT.at("/spec/template/spec");
    static final JsonNode CONTAINER = POD.at("/containers/0");
    static final JsonNode SECRET = manifest("secret.yaml");
    static final JsonNode CONFIG_MAP = manifest("configmap.yaml");
    static final String SLUICE_YAML = CONFIG_MAP.at("/data/sluice.yaml").asText();

    /** The ConfigMap's config as the pod would run it, but on a free loopback port, a simulator for the vLLM pods and a test key. */
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .yaml(runnableHere(SLUICE_YAML))
            .simulators(SimulatorOptions.defaults())
            .file("keys.txt", "test " + CLIENT_KEY + "\n")
            .env("SLUICE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("OPENAI_API_KEY", "")
            .env("OPENAI_BASE_URL", "http://127.0.0.1:9")
            .build();

    static JsonNode manifest(String file) {
        try {
            return YAML.readTree(DIR.resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Port 0 on loopback, each {@code dns:} backend (cluster DNS does not exist here) a simulator, and the API
     * keys from a file instead of the process environment, which a test cannot set, and no warm-up: a test
     * JVM compiles all the time, so {@code warmup: auto} would run to its cap. Nothing else changes.
     */
    static String runnableHere(String yaml) {
        try {
            ObjectNode root = (ObjectNode) YAML.readTree(yaml);
            ((ObjectNode) root.get("server")).put("warmup", "0s");
            ObjectNode listener = (ObjectNode) root.at("/listeners/0");
            listener.put("port", 0).put("host", "127.0.0.1");
            ((ObjectNode) listener.get("auth")).remove("keys-env");
            ((ObjectNode) listener.get("auth")).put("keys-file", "${DIR}/keys.txt");
            for (JsonNode pool : root.get("pools")) {
                ArrayNode backends = (ArrayNode) pool.get("backends");
                for (int i = 0; i < backends.size(); i++) {
                    if (backends.get(i).has("dns")) {
                        backends.set(i, YAML.createObjectNode().put("url", "http://127.0.0.1:${SIM0}"));
                    }
                }
            }
            return YAML.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the container's environment holds: literal values, and the Secret's for each secretKeyRef. */
    static Map<String, String> containerEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : CONTAINER.get("env")) {
            JsonNode ref = e.at("/valueFrom/secretKeyRef");
            if (ref.isMissingNode()) {
                env.put(e.get("name").asText(), e.get("value").asText());
            } else {
                assertEquals(SECRET.at("/metadata/name").asText(), ref.get("name").asText(), e.toString());
                JsonNode value = SECRET.at("/stringData").get(ref.get("key").asText());
                assertNotNull(value, "the Secret has no key " + ref.get("key") + " for " + e.get("name"));
                env.put(e.get("name").asText(), value.asText());
            }
        }
        return env;
    }

    static SluiceConfig load(String yaml) throws ConfigException {
        Map<String, String> env = containerEnv();
        Function<String, String> lookup = env::get; // the container's environment, not this process's
        return ConfigLoader.parse(yaml, "configmap.yaml:sluice.yaml", lookup);
    }

    static String dnsEntry() {
        Matcher m = Pattern.compile("dns:\\s*(\\S+)").matcher(SLUICE_YAML);
        assertTrue(m.find(), "the vLLM pool is found through DNS");
        return m.group(1);
    }

    @Test
    void theConfigMapIsAValidSluiceConfig() throws Exception {
        load(SLUICE_YAML);
    }

    @Test
    void everythingButTheDnsBackendLoadsWithTheDeploymentsEnvironment() throws Exception {
        SluiceConfig cfg = load(SLUICE_YAML.replace("dns: " + dnsEntry(), "url: http://" + dnsEntry()));
        ListenerConfig listener = cfg.listeners().get(0);
        assertEquals(CONTAINER.at("/ports/0/containerPort").asInt(), listener.port(), "containerPort is the listener's port");
        assertEquals("http", CONTAINER.at("/ports/0/name").asText());

        long grace = POD.get("terminationGracePeriodSeconds").asLong();
        long preStop = CONTAINER.at("/lifecycle/preStop/sleep/seconds").asLong();
        assertTrue(preStop > 0, "the native preStop sleep (no shell in the image)");
        long drain = cfg.server().shutdownGrace().toSeconds();
        assertTrue(grace > preStop + drain, "terminationGracePeriodSeconds " + grace + " must exceed preStop " + preStop
                + "s + shutdown-grace " + drain + "s, or the kubelet kills streams still draining");

        // The pod warms up until the JIT settles before its listener opens; the startup probe must wait out the cap.
        assertTrue(cfg.server().warmupUntilSettled(), "warmup: auto");
        JsonNode startup = CONTAINER.get("startupProbe");
        long startupSeconds = startup.get("periodSeconds").asLong() * startup.get("failureThreshold").asLong();
        assertTrue(startupSeconds > cfg.server().warmup().toSeconds() + 10, "the startup probe gives up after "
                + startupSeconds + " s, before the warm-up's cap of " + cfg.server().warmup().toSeconds() + " s and the JVM start");
    }

    @Test
    void everyVariableTheConfigNeedsComesFromTheDeployment() {
        Set<String> needed = new LinkedHashSet<>();
        Matcher m = REF.matcher(SLUICE_YAML);
        while (m.find()) {
            if (m.group(1) != null && m.group(2) == null) {
                needed.add(m.group(1)); // ${VAR:-default} may stay unset
            }
        }
        Matcher keysEnv = Pattern.compile("keys-env:\\s*([A-Za-z_][A-Za-z0-9_]*)").matcher(SLUICE_YAML);
        while (keysEnv.find()) {
            needed.add(keysEnv.group(1));
        }
        assertTrue(needed.contains("SLUICE_ADMIN_TOKEN"), needed.toString());
        Map<String, String> env = containerEnv();
        for (String name : needed) {
            assertTrue(env.containsKey(name), "the config needs " + name + " but the Deployment does not set it");
        }
        // The Secret is a template: placeholders or empty values, never a key.
        SECRET.get("stringData").forEach(v -> assertTrue(v.asText().isEmpty() || v.asText().contains("REPLACE"),
                "a placeholder, not a secret: " + v));
    }

    @Test
    void theConfigIsMountedWhereTheContainerReadsIt() {
        List<String> args = YAML.convertValue(CONTAINER.get("args"), List.class);
        String path = args.get(args.indexOf("--config") + 1);
        JsonNode mount = find(CONTAINER.get("volumeMounts"), "name", "config");
        JsonNode volume = find(POD.get("volumes"), "name", "config");
        assertEquals(CONFIG_MAP.at("/metadata/name").asText(), volume.at("/configMap/name").asText());
        JsonNode item = find(volume.at("/configMap/items"), "key", "sluice.yaml");
        assertEquals(path, mount.get("mountPath").asText() + "/" + item.get("path").asText());
    }

    @Test
    void theProbesPathAnswersWithoutCredentials() throws Exception {
        Set<String> paths = new LinkedHashSet<>();
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            JsonNode get = CONTAINER.at("/" + probe + "/httpGet");
            assertFalse(get.isMissingNode(), probe);
            assertEquals(CONTAINER.at("/ports/0/name").asText(), get.get("port").asText(), probe + " port");
            paths.add(get.get("path").asText());
        }
        for (String path : paths) {
            try (RawHttp c = new RawHttp(sluice.port())) {
                // As a kubelet asks: from outside the pod, Host is the pod's address, no token.
                c.sendRaw("GET " + path + " HTTP/1.1\r\nHost: 10.244.0.12:8000\r\nUser-Agent: kube-probe/1.31\r\n\r\n");
                RawHttp.Response r = c.exchange();
                assertEquals(200, r.status(), path + ": " + r.body().text());
            }
        }
        // The rest of the config is live too: the proxied API needs a key, the admin API its token.
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(401, c.get("/v1/models").exchange().status());
        }
        try (RawHttp c = new RawHttp(sluice.port())) {
            assertEquals(200, c.get("/v1/models", "Authorization: Bearer " + CLIENT_KEY).exchange().status());
        }
        assertEquals(401, AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null).status());
        assertEquals(200, AdminBackendsTest.call(sluice.port(), "GET", "/api/health", null,
                "Authorization: Bearer " + ADMIN_TOKEN).status());
    }

    @Test
    void theServicePdbAndHpaSelectTheDeployment() {
        JsonNode podLabels = DEPLOYMENT.at("/spec/template/metadata/labels");
        JsonNode selector = DEPLOYMENT.at("/spec/selector/matchLabels");
        assertSubset(selector, podLabels, "the Deployment's selector");

        JsonNode service = manifest("service.yaml");
        assertSubset(service.at("/spec/selector"), podLabels, "the Service's selector");
        assertEquals(CONTAINER.at("/ports/0/name").asText(), service.at("/spec/ports/0/targetPort").asText());

        JsonNode pdb = manifest("pdb.yaml");
        assertEquals(selector, pdb.at("/spec/selector/matchLabels"), "the PDB covers exactly the Deployment's pods");
        assertTrue(DEPLOYMENT.at("/spec/replicas").asInt() > pdb.at("/spec/maxUnavailable").asInt());

        JsonNode hpa = manifest("hpa.yaml");
        assertEquals("Deployment", hpa.at("/spec/scaleTargetRef/kind").asText());
        assertEquals(DEPLOYMENT.at("/metadata/name").asText(), hpa.at("/spec/scaleTargetRef/name").asText());
        assertTrue(hpa.at("/spec/minReplicas").asInt() >= 2, "several replicas, so a drain never empties the Service");
        assertFalse(CONTAINER.at("/resources/requests/cpu").isMissingNode(), "CPU utilisation needs a CPU request");
    }

    @Test
    void theHeadlessServiceIsTheDnsBackend() {
        Matcher m = DNS_BACKEND.matcher(dnsEntry());
        assertTrue(m.matches(), dnsEntry());
        JsonNode headless = manifest("vllm-service.yaml");
        assertEquals(m.group(1), headless.at("/metadata/name").asText());
        assertEquals(manifest("kustomization.yaml").get("namespace").asText(), m.group(2), "the namespace everything goes to");
        assertEquals(manifest("namespace.yaml").at("/metadata/name").asText(), m.group(2));
        assertEquals("None", headless.at("/spec/clusterIP").asText(), "headless: one DNS record per pod");
        assertFalse(headless.at("/spec/publishNotReadyAddresses").asBoolean(true));
        assertEquals(Integer.parseInt(m.group(3)), headless.at("/spec/ports/0/port").asInt());

        JsonNode vllm = manifest("vllm-deployment.yaml");
        assertSubset(headless.at("/spec/selector"), vllm.at("/spec/template/metadata/labels"), "the headless Service's selector");
        JsonNode port = vllm.at("/spec/template/spec/containers/0/ports/0");
        assertEquals(headless.at("/spec/ports/0/targetPort").asText(), port.get("name").asText());
        assertEquals(Integer.parseInt(m.group(3)), port.get("containerPort").asInt());
    }

    @Test
    void hardenedAndKustomized() throws IOException {
        assertTrue(POD.at("/securityContext/runAsNonRoot").asBoolean());
        assertEquals("RuntimeDefault", POD.at("/securityContext/seccompProfile/type").asText());
        JsonNode sc = CONTAINER.get("securityContext");
        assertTrue(sc.get("readOnlyRootFilesystem").asBoolean());
        assertFalse(sc.get("allowPrivilegeEscalation").asBoolean(true));
        assertEquals("[\"ALL\"]", sc.at("/capabilities/drop").toString());
        List<String> command = YAML.convertValue(CONTAINER.get("command"), List.class);
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-XX:MaxRAMPercentage=")), command.toString());
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-XX:MaxDirectMemorySize=")), command.toString());
        assertTrue(command.indexOf("-jar") > command.indexOf("java"), "JVM options before the jar: " + command);
        assertFalse(CONTAINER.at("/resources/limits/memory").isMissingNode(), "MaxRAMPercentage needs a memory limit");
        for (JsonNode resource : manifest("kustomization.yaml").get("resources")) {
            assertTrue(Files.isRegularFile(DIR.resolve(resource.asText())), resource.asText());
        }
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (value.equals(n.path(field).asText())) {
                return n;
            }
        }
        throw new AssertionError("no " + field + "=" + value + " in " + array);
    }

    private static void assertSubset(JsonNode selector, JsonNode labels, String what) {
        assertTrue(selector.size() > 0, what + " is empty");
        selector.fields().forEachRemaining(e -> assertEquals(e.getValue(), labels.get(e.getKey()),
                what + " " + e.getKey() + " does not match the pod labels " + labels));
    }
}
