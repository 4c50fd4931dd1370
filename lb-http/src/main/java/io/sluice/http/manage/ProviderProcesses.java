package io.sluice.http.manage;

import io.sluice.core.config.ProviderConfig;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/** The processes providers ask Sluice to run ({@code auto-start: true}), as services of the {@link InferenceSupervisor}. */
public final class ProviderProcesses {
    private ProviderProcesses() {
    }

    /** The service id of a provider's process. */
    public static String id(String provider) {
        return "provider-" + provider;
    }

    /**
     * One service per auto-started provider: its command ({@code ollama serve}), with
     * {@code OLLAMA_HOST=<host>:<port>} of the provider's base URL, so Ollama listens where Sluice calls it.
     */
    public static Map<String, InferenceSupervisor.Service> wanted(Map<String, ProviderConfig> providers) {
        Map<String, InferenceSupervisor.Service> out = new LinkedHashMap<>();
        for (ProviderConfig p : providers.values()) {
            if (p.autoStart().isEmpty()) {
                continue;
            }
            out.put(id(p.name()), new InferenceSupervisor.Service(p.autoStart(), Map.of("OLLAMA_HOST", hostPort(p.baseUrl()))));
        }
        return out;
    }

    /** {@code host:port} of a base URL, the port filled in from the scheme; an IPv6 host in brackets. */
    static String hostPort(String baseUrl) {
        URI u = URI.create(baseUrl);
        int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        return u.getHost() + ":" + port; // getHost keeps an IPv6 literal's brackets
    }
}
