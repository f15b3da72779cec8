package io.coffer.authn.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** {@code restricted_to} matching: does an address fall inside {@code a.b.c.d/n} (or an IPv6 prefix)? */
final class Cidr {
    private Cidr() {
    }

    static boolean contains(String cidr, String address) {
        try {
            int slash = cidr.indexOf('/');
            byte[] net = literal(slash < 0 ? cidr : cidr.substring(0, slash)).getAddress();
            byte[] ip = literal(address).getAddress();
            if (net.length != ip.length) {
                return false;
            }
            int bits = slash < 0 ? net.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
            for (int i = 0; i < net.length && bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
                if ((net[i] & mask) != (ip[i] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }

    /** Parses IP literals only: a host name here must never trigger a DNS lookup. */
    private static InetAddress literal(String s) throws UnknownHostException {
        if (!s.matches("[0-9a-fA-F:.]+")) {
            throw new UnknownHostException("not an IP literal");
        }
        return InetAddress.getByName(s);
    }
}
