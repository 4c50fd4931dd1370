package io.sluice.http.proxy;

import io.sluice.core.net.ClientAddress;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.net.Cidr;
import org.junit.jupiter.api.Test;

/** Per-IP rate-limit keys: an IPv4 client is its address, an IPv6 client its /64. */
class ClientAddressTest {
    static String key(String literal) {
        return ClientAddress.limitKey(Cidr.address(literal));
    }

    @Test
    void ipv4IsTheWholeAddress() {
        assertEquals("203.0.113.7", key("203.0.113.7"));
        assertEquals("203.0.113.7", key("::ffff:203.0.113.7"), "IPv4-mapped IPv6 is IPv4");
    }

    @Test
    void ipv6IsItsSlash64() {
        assertEquals("2001:db8:1:2::/64", key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assertEquals("2001:db8:1:2::/64", key("2001:db8:1:2::1"));
        assertEquals("2001:db8:1:3::/64", key("2001:db8:1:3::1"));
        assertEquals("::/64", key("::1"));
        assertEquals("fe80::/64", key("fe80::1:2:3:4"));
    }
}
