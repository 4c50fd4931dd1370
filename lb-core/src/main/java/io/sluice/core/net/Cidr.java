package io.sluice.core.net;

import io.netty.util.NetUtil;
import java.util.Arrays;
import java.util.List;

/**
 * An IPv4 or IPv6 network ({@code 10.0.0.0/8}, {@code 2001:db8::/32}) or a single address, as listed
 * in a listener's {@code trusted-proxies}. Parsing never resolves a name: only literals are accepted.
 * An IPv4-mapped IPv6 address ({@code ::ffff:10.0.0.1}) is the IPv4 address it maps, on both sides of
 * {@link #contains}, so a dual-stack socket's peers match IPv4 entries.
 */
public final class Cidr {
    private final String text;
    private final byte[] network;
    private final int prefix;

    private Cidr(String text, byte[] network, int prefix) {
        this.text = text;
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * @throws IllegalArgumentException with a message for the operator: not a literal, a prefix out
     *                                  of range, or host bits set (a typo more often than a wish)
     */
    public static Cidr parse(String s) {
        String t = s.strip();
        int slash = t.indexOf('/');
        byte[] address = address(slash < 0 ? t : t.substring(0, slash));
        if (address == null) {
            throw new IllegalArgumentException("'" + s + "' is not an IP address or CIDR network (e.g. 10.0.0.0/8, 2001:db8::/32)");
        }
        boolean mapped = slash >= 0 && isMapped(NetUtil.createByteArrayFromIpAddressString(t.substring(0, slash)));
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "': the prefix length must be a number");
            }
            if (mapped) {
                prefix -= 96; // ::ffff:10.0.0.0/104 is 10.0.0.0/8
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("'" + s + "': the prefix length must be 0.." + (mapped ? 128 : bits));
            }
        }
        byte[] network = mask(address, prefix);
        if (!Arrays.equals(network, address)) {
            throw new IllegalArgumentException("'" + s + "' has host bits set; did you mean "
                    + NetUtil.bytesToIpAddress(network) + "/" + prefix + "?");
        }
        return new Cidr(t, network, prefix);
    }

    /** The literal's bytes (4 for IPv4, IPv4-mapped IPv6 included; 16 for IPv6), or null if it is not a literal. */
    public static byte[] address(String literal) {
        String t = literal.strip();
        if (t.length() > 2 && t.charAt(0) == '[' && t.charAt(t.length() - 1) == ']') {
            t = t.substring(1, t.length() - 1);
        }
        if (t.indexOf('%') >= 0) {
            return null; // a zone id has no meaning beyond this host
        }
        return normalize(NetUtil.createByteArrayFromIpAddressString(t));
    }

    /** An IPv4-mapped IPv6 address as its 4 IPv4 bytes; anything else unchanged (null stays null). */
    public static byte[] normalize(byte[] address) {
        return isMapped(address) ? Arrays.copyOfRange(address, 12, 16) : address;
    }

    private static boolean isMapped(byte[] a) {
        if (a == null || a.length != 16 || a[10] != (byte) 0xff || a[11] != (byte) 0xff) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] m = address.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] &= (byte) (0xff << (8 - keep));
        }
        return m;
    }

    /** @param address normalized bytes (see {@link #normalize}); an address of the other family never matches */
    public boolean contains(byte[] address) {
        if (address == null || address.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        return rest == 0 || ((address[full] ^ network[full]) & (0xff << (8 - rest)) & 0xff) == 0;
    }

    /** Whether any of {@code networks} contains {@code address}. */
    public static boolean anyContains(List<Cidr> networks, byte[] address) {
        for (int i = 0, n = networks.size(); i < n; i++) {
            if (networks.get(i).contains(address)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    /** As written in the config. */
    @Override
    public String toString() {
        return text;
    }
}
