package io.coffer.api.net;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class CidrTest {
    @Test
    public void matchesPrefixes() {
        assertTrue(Cidr.parse("10.0.0.0/8").contains("10.1.2.3"));
        assertFalse(Cidr.parse("10.0.0.0/8").contains("11.1.2.3"));
        assertTrue(Cidr.parse("192.168.1.0/25").contains("192.168.1.127"));
        assertFalse(Cidr.parse("192.168.1.0/25").contains("192.168.1.128"));
        assertTrue(Cidr.parse("127.0.0.1").contains("127.0.0.1"));
        assertFalse(Cidr.parse("127.0.0.2").contains("127.0.0.3"));
        assertTrue(Cidr.parse("0.0.0.0/0").contains("8.8.8.8"));
        assertTrue(Cidr.parse("::1/128").contains("::1"));
        assertTrue(Cidr.parse("2001:db8::/32").contains("2001:db8:1::5"));
        assertFalse(Cidr.parse("10.0.0.0/8").contains("::1"));
        assertTrue("IPv4-mapped counts as IPv4", Cidr.parse("10.0.0.0/8").contains("::ffff:10.0.0.1"));
        assertEquals("10.0.0.0/8", Cidr.parse(" 10.0.0.0/8 ").toString());
    }

    @Test
    public void onlyStrictLiteralsNeverNames() {
        assertFalse("host names never resolve", Cidr.parse("10.0.0.0/8").contains("localhost"));
        for (String bad : new String[] {"localhost", "127.1", "010.0.0.1", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80",
                "[::1]", "fe80::1%eth0", "", " 1.2.3.4", "unknown", "0x7f.0.0.1", "1.2.3", ":", "::1::1"}) {
            assertNull(bad, Cidr.literal(bad));
        }
        for (String bad : new String[] {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "example.com/8", "/8"}) {
            try {
                Cidr.parse(bad);
                fail(bad);
            } catch (IllegalArgumentException expected) {
                // refused
            }
        }
    }
}
