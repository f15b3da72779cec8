package io.coffer.api.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An IP network, {@code 10.0.0.0/8} or {@code 2001:db8::/32}, or one address (a full-length prefix). Used for
 * {@code restricted_to}, host-factory token origins and trusted proxies. Immutable and thread-safe.
 *
 * <p>Only IP literals are accepted, never host names: a value from a request header or a policy must not trigger a
 * DNS lookup. IPv4 is the strict dotted quad (no {@code 127.1}, no leading zeros, which other parsers read as
 * octal); an IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}) counts as its IPv4 address.
 */
public final class Cidr {
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

    private final byte[] network;
    private final int bits;

    private Cidr(byte[] network, int bits) {
        this.network = network;
        this.bits = bits;
    }

    /**
     * @param text {@code address/prefix} or a bare address
     * @return the network
     * @throws IllegalArgumentException when the text is not an IP literal with a prefix length that fits it
     */
    public static Cidr parse(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        InetAddress a = literal(slash < 0 ? t : t.substring(0, slash));
        if (a == null) {
            throw new IllegalArgumentException("not an IP network: '" + t + "'");
        }
        byte[] net = a.getAddress();
        int bits = net.length * 8;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > bits) {
                throw new IllegalArgumentException("bad prefix length in '" + t + "'");
            }
            bits = Integer.parseInt(p);
        }
        return new Cidr(net, bits);
    }

    /**
     * Parses an IP literal without any lookup.
     *
     * @param s an IPv4 dotted quad or an IPv6 literal (no brackets, no zone)
     * @return the address, or {@code null} when {@code s} is anything else
     */
    public static InetAddress literal(String s) {
        if (s == null || s.isEmpty() || s.length() > 45) {
            return null;
        }
        boolean v4 = IPV4.matcher(s).matches();
        if (!v4 && !IPV6.matcher(s).matches()) {
            return null;
        }
        try {
            // Only literals reach this call (the patterns above admit no host name), so it never resolves.
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** @return whether {@code address} is inside this network (an IPv4 address is never inside an IPv6 network) */
    public boolean contains(InetAddress address) {
        byte[] ip = address.getAddress();
        if (ip.length != network.length) {
            return false;
        }
        int left = bits;
        for (int i = 0; i < ip.length && left > 0; i++, left -= 8) {
            int mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
            if ((network[i] & mask) != (ip[i] & mask)) {
                return false;
            }
        }
        return true;
    }

    /** @return whether {@code address} is an IP literal inside this network; {@code false} for anything else */
    public boolean contains(String address) {
        InetAddress a = literal(address);
        return a != null && contains(a);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr && ((Cidr) o).bits == bits && Arrays.equals(((Cidr) o).network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + bits;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + bits;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
