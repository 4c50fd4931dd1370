package io.sluice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.observe.Exchange;
import io.sluice.sim.SimulatorOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-IP limits over IPv6 loopback: IPv6 clients share a bucket per /64, IPv4-mapped addresses count
 * as IPv4. ::1 is the only IPv6 loopback address, so the other clients arrive through X-Forwarded-For
 * from ::1 as a trusted proxy, which is the same key computation.
 */
@EnabledIf(value = "ipv6Loopback", disabledReason = "IPv6 loopback (::1) is not available on this machine")
class Ipv6RateLimitTest {
    static boolean ipv6Loopback() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();
    @RegisterExtension
    static final SluiceExtension sluice = SluiceExtension.builder()
            .simulators(SimulatorOptions.builder().model("demo").build())
            .observer(exchanges::add)
            .yaml("""
                    listeners:
                      - host: "::1"
                        port: 0
                        trusted-proxies: [ "::1" ]
                        rate-limits: { per-ip: { requests-per-minute: 1 } }
                        routes: [ { path: /v1/, pool: vllm } ]
                    pools:
                      vllm: { backends: [ { url: "http://127.0.0.1:${SIM0}" } ] }
                    admin: { scrape-interval: 0 }
                    """)
            .build();

    @Test
    void ipv6ClientsShareABucketPerSlash64() throws Exception {
        int port = sluice.port();
        assertEquals(200, chat(port));
        assertEquals(429, chat(port), "::1 itself: one request a minute");
        assertEquals("::1", exchanges.poll(5, TimeUnit.SECONDS).clientIp);
        exchanges.clear();

        assertEquals(200, chat(port, "X-Forwarded-For: 2001:db8:1:2::a"));
        assertEquals(429, chat(port, "X-Forwarded-For: 2001:db8:1:2:ffff::b"), "same /64, same bucket");
        assertEquals(200, chat(port, "X-Forwarded-For: 2001:db8:1:3::a"), "another /64");
        exchanges.poll(5, TimeUnit.SECONDS);
        assertEquals("2001:db8:1:2:ffff::b", exchanges.poll(5, TimeUnit.SECONDS).clientIp,
                "the log keeps the whole address; only the limit groups");

        assertEquals(200, chat(port, "X-Forwarded-For: ::ffff:192.0.2.1"));
        assertEquals(429, chat(port, "X-Forwarded-For: 192.0.2.1"), "IPv4-mapped IPv6 is that IPv4 client");
        assertEquals(200, chat(port, "X-Forwarded-For: 192.0.2.2"), "IPv4 stays per address");
    }

    static int chat(int port, String... headers) throws IOException {
        try (RawHttp c = new RawHttp("::1", port)) {
            return c.post("/v1/chat/completions", RawHttp.chatBody("demo", false, 2), headers).exchange().status();
        }
    }
}
