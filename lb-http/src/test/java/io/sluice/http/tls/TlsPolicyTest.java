package io.sluice.http.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The same policy from BoringSSL and from the JDK fallback: TLS 1.2/1.3, AEAD suites only, ALPN h2 then http/1.1. */
class TlsPolicyTest {
    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL_REFCNT", "JDK"})
    void policy(SslProvider provider) throws Exception {
        if (provider != SslProvider.JDK) {
            assertTrue(OpenSsl.isAvailable(), "netty-tcnative should load on this platform: " + OpenSsl.unavailabilityCause());
        }
        SelfSigned.Certificate c = SelfSigned.create(List.of("localhost"), Duration.ofDays(1));
        SslContext ctx = Tls.serverContext(provider, true, c.keys().getPrivate(), c.cert());
        try {
            assertEquals(List.of("h2", "http/1.1"), ctx.applicationProtocolNegotiator().protocols());
            SSLEngine engine = ctx.newEngine(ByteBufAllocator.DEFAULT);
            try {
                // SSLv2Hello (JDK) is a ClientHello format, not a protocol version: it still negotiates 1.2/1.3 only.
                assertEquals(Set.of("TLSv1.2", "TLSv1.3"), Arrays.stream(engine.getEnabledProtocols())
                        .filter(p -> !p.equals("SSLv2Hello")).collect(Collectors.toSet()));
                for (String suite : engine.getEnabledCipherSuites()) {
                    assertTrue(suite.contains("GCM") || suite.contains("CHACHA20"), suite);
                    assertFalse(suite.contains("_CBC_") || suite.startsWith("TLS_RSA_"), suite); // forward secrecy
                }
            } finally {
                ReferenceCountUtil.release(engine);
            }
        } finally {
            ReferenceCountUtil.release(ctx);
        }
    }
}
