package io.sluice.core.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CidrTest {
    @Test
    void ipv4NetworksAndSingleAddresses() {
        Cidr net = Cidr.parse("10.0.0.0/8");
        assertTrue(net.contains(Cidr.address("10.255.1.2")));
        assertFalse(net.contains(Cidr.address("11.0.0.1")));
        Cidr odd = Cidr.parse("192.168.4.0/22");
        assertTrue(odd.contains(Cidr.address("192.168.7.255")));
        assertFalse(odd.contains(Cidr.address("192.168.8.0")));
        Cidr one = Cidr.parse("127.0.0.1");
        assertTrue(one.contains(Cidr.address("127.0.0.1")));
        assertFalse(one.contains(Cidr.address("127.0.0.2")));
        assertTrue(Cidr.parse("0.0.0.0/0").contains(Cidr.address("203.0.113.7")));
        assertEquals(one, Cidr.parse("127.0.0.1/32"));
    }

    @Test
    void ipv6AndMappedIpv4() {
        Cidr net = Cidr.parse("2001:db8::/32");
        assertTrue(net.contains(Cidr.address("2001:db8:ffff::1")));
        assertFalse(net.contains(Cidr.address("2001:db9::1")));
        assertFalse(net.contains(Cidr.address("10.0.0.1")), "the other family never matches");
        assertTrue(Cidr.parse("::1").contains(Cidr.address("[::1]")));
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: they match IPv4 entries, and back.
        assertArrayEquals(new byte[] {10, 0, 0, 1}, Cidr.address("::ffff:10.0.0.1"));
        assertTrue(Cidr.parse("10.0.0.0/8").contains(Cidr.address("::ffff:10.1.2.3")));
        assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("::ffff:10.0.0.0/104"));
    }

    @Test
    void onlyLiteralsAndNoHostBits() {
        assertNull(Cidr.address("localhost"), "never a DNS lookup");
        assertNull(Cidr.address("fe80::1%eth0"));
        assertNull(Cidr.address("1.2.3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.1/8")).getMessage()
                .contains("did you mean 10.0.0.0/8?"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("2001:db8::/129"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/x"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("gateway.internal"));
    }
}
