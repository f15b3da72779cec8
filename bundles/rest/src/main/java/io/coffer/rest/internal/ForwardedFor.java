package io.coffer.rest.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import io.coffer.api.net.Cidr;

/**
 * Who the client is, from the socket peer and {@code X-Forwarded-For}. The header is believed only as far as trusted
 * proxies vouch for it: when the socket peer is a trusted proxy, the header is walked from its right end (the hop
 * that proxy added) leftwards over trusted addresses, and the first untrusted address is the client. An entry that
 * isn't a plain IP literal (a name, {@code unknown}, a port, garbage) stops the walk: the address reached so far
 * stands, and the unparsable value is never believed.
 */
final class ForwardedFor {
    /** At most this many hops are walked; a longer chain stops at the last one reached. */
    static final int MAX_HOPS = 32;

    private ForwardedFor() {
    }

    /**
     * @param socket the socket peer's address as the server reports it
     * @param headers every {@code X-Forwarded-For} field of the request, in order (each may hold a comma list)
     * @param trusted the trusted proxies' networks
     * @return the client's address: {@code socket} itself unless trusted proxies forwarded the request
     */
    static String clientIp(String socket, Collection<String> headers, List<Cidr> trusted) {
        InetAddress peer = Cidr.literal(socket);
        if (trusted.isEmpty() || peer == null || !isTrusted(peer, trusted) || headers.isEmpty()) {
            return socket;
        }
        List<String> hops = new ArrayList<>();
        for (String h : headers) {
            for (String e : h.split(",", -1)) {
                hops.add(e.trim());
            }
        }
        InetAddress reached = peer;
        for (int i = hops.size() - 1, walked = 0; i >= 0 && walked < MAX_HOPS; i--, walked++) {
            InetAddress hop = Cidr.literal(unbracket(hops.get(i)));
            if (hop == null) {
                break;
            }
            reached = hop;
            if (!isTrusted(hop, trusted)) {
                break;
            }
        }
        return reached == peer ? socket : reached.getHostAddress();
    }

    /** {@code [2001:db8::1]} → {@code 2001:db8::1}; anything else unchanged. */
    private static String unbracket(String s) {
        return s.length() > 2 && s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']' ? s.substring(1, s.length() - 1)
                : s;
    }

    private static boolean isTrusted(InetAddress a, List<Cidr> trusted) {
        for (Cidr c : trusted) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }
}
