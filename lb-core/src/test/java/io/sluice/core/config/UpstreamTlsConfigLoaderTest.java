package io.sluice.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code https://} backends, a pool's {@code tls:} and {@code host-header:}, in the style of {@link ConfigLoaderTest}. */
class UpstreamTlsConfigLoaderTest {
    /** Any parseable certificate will do: the loader checks the file is PEM, not whom it names. */
    static final String CERT = """
            -----BEGIN CERTIFICATE-----
            MIIBgjCCASmgAwIBAgIUdj+SM/ZcKH2Cow0Wk+4pAs3ZZH8wCgYIKoZIzj0EAwIw
            FjEUMBIGA1UEAwwLY29uZmlnLXRlc3QwIBcNMjYxMjAyMDEwMzMyWhgPMjEyNjEx
            MDgwMTAzMzJaMBYxFDASBgNVBAMMC2NvbmZpZy10ZXN0MFkwEwYHKoZIzj0CAQYI
            KoZIzj0DAQcDQgAEBA/QFQ2LLB/BLrry8dH4Hvyrjp2cyl9zMNWcS1fF73+tCdrI
            BsnpzgHF4ijGV2LagXE6tF3WZ/kUENiOix4vBKNTMFEwHQYDVR0OBBYEFKqdvVEX
            jf87iOYZGlK3O7yodzvwMB8GA1UdIwQYMBaAFKqdvVEXjf87iOYZGlK3O7yodzvw
            MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgfthP9G4cWw6oGlw5
            q7II2c3JbJA9u4xRCQRd+nAKR+kCIGAsISweP7WGzxCajDDncPvxKzK85Hdmkie7
            wUyLWW2B
            -----END CERTIFICATE-----
            """;
    static final String KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

    @TempDir
    Path dir;

    private static String yaml(String pool) {
        return """
                listeners:
                  - { port: 8000, routes: [ { path: /, pool: p } ] }
                pools:
                  p:
                    backends:
                      - url: https://api.example.com
                %s""".formatted(pool);
    }

    private static SluiceConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "up.yaml", name -> null);
    }

    private static void assertError(String yaml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().startsWith(expected), () -> "expected: " + expected + "\nbut was:  " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
    }

    private Path file(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void httpsUrlsDefaultToPort443AndTheDefaultsVerifyAgainstTheJdkTrustStore() throws Exception {
        SluiceConfig c = parse(yaml("      - url: https://10.0.0.1:8443\n      - url: http://10.0.0.2\n"));
        PoolConfig p = c.pools().get("p");
        assertEquals(new BackendConfig("api.example.com:443", "api.example.com", 443, 1, null, true), p.backends().get(0));
        assertEquals(new BackendConfig("10.0.0.1:8443", "10.0.0.1", 8443, 1, null, true), p.backends().get(1));
        assertEquals(new BackendConfig("10.0.0.2:80", "10.0.0.2", 80, 1, null, false), p.backends().get(2));
        assertEquals(UpstreamTlsConfig.DEFAULT, p.tls());
        assertTrue(p.tls().verify());
        assertNull(p.tls().caFile());
        assertEquals(PoolConfig.HOST_PASS, p.hostHeader());
    }

    @Test
    void everyTlsKey() throws Exception {
        Path ca = file("ca.pem", CERT);
        Path cert = file("client.pem", CERT + CERT);
        Path key = file("client.key", KEY);
        PoolConfig p = parse(yaml("""
                    host-header: backend
                    tls:
                      ca-file: %s
                      verify: false
                      server-name: Inference.Internal
                      client-cert: %s
                      client-key: %s
                      protocols: [TLSv1.3]
                """.formatted(ca, cert, key))).pools().get("p");
        assertEquals(new UpstreamTlsConfig(ca.toString(), false, "inference.internal", cert.toString(), key.toString(),
                List.of("TLSv1.3")), p.tls());
        assertEquals(PoolConfig.HOST_BACKEND, p.hostHeader());
        assertEquals("api.example.com:8443", parse(yaml("    host-header: api.example.com:8443\n")).pools().get("p").hostHeader());
        assertEquals("10.1.2.3", parse(yaml("    tls: { server-name: 10.1.2.3 }\n")).pools().get("p").tls().serverName());
        assertFalse(parse(yaml("    tls: { verify: false }\n")).pools().get("p").tls().verify());
    }

    @Test
    void missingCaFile() {
        assertError(yaml("    tls: { ca-file: /nonexistent/ca.pem }\n"),
                "up.yaml:7:21: pools.p.tls.ca-file: '/nonexistent/ca.pem': no such file");
    }

    @Test
    void badPem() throws Exception {
        Path junk = file("junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        String e1 = "up.yaml:7:21: pools.p.tls.ca-file: '" + junk + "': not a PEM certificate file";
        assertError(yaml("    tls: { ca-file: " + junk + " }\n"), e1);
        Path empty = file("empty.pem", "");
        assertError(yaml("    tls: { ca-file: " + empty + " }\n"), "up.yaml:7:21: pools.p.tls.ca-file: '" + empty + "': no PEM certificate in the file");
        Path cert = file("c.pem", CERT);
        Path notKey = file("k.pem", CERT);
        assertError(yaml("    tls:\n      client-cert: " + cert + "\n      client-key: " + notKey + "\n"),
                "up.yaml:9:19: pools.p.tls.client-key: '" + notKey + "': no PEM private key in the file");
        Path encrypted = file("e.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertError(yaml("    tls:\n      client-cert: " + cert + "\n      client-key: " + encrypted + "\n"),
                "up.yaml:9:19: pools.p.tls.client-key: '" + encrypted + "': encrypted private keys are not supported");
    }

    @Test
    void clientCertWithoutClientKey() throws Exception {
        Path cert = file("c.pem", CERT);
        assertError(yaml("    tls:\n      client-cert: " + cert + "\n"),
                "up.yaml:8:20: pools.p.tls.client-cert: client-cert needs client-key too");
        Path key = file("k.pem", KEY);
        assertError(yaml("    tls:\n      client-key: " + key + "\n"),
                "up.yaml:8:19: pools.p.tls.client-key: client-key needs client-cert too");
    }

    @Test
    void otherBadValues() {
        assertError(yaml("    tls: { verify: maybe }\n"), "up.yaml:7:20: pools.p.tls.verify: expected true or false, got 'maybe'");
        assertError(yaml("    tls: { protocols: [TLSv1.1] }\n"),
                "up.yaml:7:24: pools.p.tls.protocols[0]: protocol 'TLSv1.1' is not supported (TLSv1.3, TLSv1.2)");
        assertError(yaml("    tls: { server-name: \"*.example.com\" }\n"),
                "up.yaml:7:25: pools.p.tls.server-name: '*.example.com' is not a host name (no wildcards)");
        assertError(yaml("    tls: { sni: x }\n"), "up.yaml:7:12: pools.p.tls.sni: unknown key 'sni'");
        assertError(yaml("    host-header: \"a b\"\n"),
                "up.yaml:7:18: pools.p.host-header: 'a b' is neither pass, backend nor a host[:port] value");
    }
}
