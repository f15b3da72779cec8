package io.coffer.rest.internal;

import static org.junit.Assert.assertEquals;

import java.util.Collections;
import java.util.List;

import org.junit.Test;

import io.coffer.api.net.Cidr;

/** The client address from the socket and X-Forwarded-For, through trusted proxies only. */
public class ForwardedForTest {
    private static final List<Cidr> PROXIES = ClientIps.parse(new String[] {"127.0.0.2, 10.0.0.0/8", "2001:db8::/32"});

    private static String ip(String socket, String... headers) {
        return ForwardedFor.clientIp(socket, List.of(headers), PROXIES);
    }

    @Test
    public void anUntrustedPeerIsTheClientWhateverItSays() {
        assertEquals("127.0.0.3", ip("127.0.0.3", "203.0.113.9"));
        assertEquals("127.0.0.3", ip("127.0.0.3", "10.0.0.1, 127.0.0.2"));
        assertEquals("no proxies configured", "127.0.0.2",
                ForwardedFor.clientIp("127.0.0.2", List.of("203.0.113.9"), List.of()));
    }

    @Test
    public void aTrustedPeerIsBelievedAsFarAsTrustedHopsGo() {
        assertEquals("127.0.0.2", ip("127.0.0.2"));
        assertEquals("203.0.113.9", ip("127.0.0.2", "203.0.113.9"));
        // The client prepended a spoofed entry; the walk stops at the first untrusted hop from the right.
        assertEquals("198.51.100.7", ip("127.0.0.2", "1.1.1.1, 198.51.100.7, 10.1.1.1, 10.2.2.2"));
        // Several header fields count as one list, in order.
        assertEquals("198.51.100.7", ip("127.0.0.2", "1.1.1.1, 198.51.100.7", "10.1.1.1"));
        assertEquals("IPv6 hop", "2001:db9:0:0:0:0:0:1", ip("2001:db8::5", "[2001:db9::1]"));
        assertEquals("every hop trusted: the leftmost reached", "10.0.0.7", ip("127.0.0.2", "10.0.0.7, 10.0.0.8"));
    }

    @Test
    public void anUnparsableEntryStopsTheWalkAndIsNeverBelieved() {
        assertEquals("127.0.0.2", ip("127.0.0.2", "unknown"));
        assertEquals("127.0.0.2", ip("127.0.0.2", ""));
        assertEquals("127.0.0.2", ip("127.0.0.2", "evil.example"));
        assertEquals("127.0.0.2", ip("127.0.0.2", "203.0.113.9:443"));
        assertEquals("127.0.0.2", ip("127.0.0.2", "203.0.113.9, "));
        assertEquals("127.0.0.2", ip("127.0.0.2", "1.2.3.4\r\nX-Evil: 1"));
        // The last trusted hop reached stands when the next one is garbage.
        assertEquals("10.0.0.9", ip("127.0.0.2", "203.0.113.9, bogus, 10.0.0.9"));
        assertEquals("10.0.0.9", ip("127.0.0.2", "203.0.113.9, 127.1, 10.0.0.9"));
    }

    @Test
    public void theWalkIsBounded() {
        String many = String.join(", ", Collections.nCopies(100, "10.0.0.1"));
        assertEquals("10.0.0.1", ip("127.0.0.2", "203.0.113.9, " + many));
    }

    @Test
    public void badConfigurationEntriesAreLeftOutNeverWidened() {
        assertEquals(List.of(Cidr.parse("127.0.0.2"), Cidr.parse("10.0.0.0/8")),
                ClientIps.parse(new String[] {"127.0.0.2 ,, proxy.example, 10.0.0.0/8, 10.0.0.0/40"}));
        assertEquals(List.of(), ClientIps.parse(new String[0]));
    }
}
