package io.coffer.authn.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class CidrTest {
    @Test
    public void matchesPrefixes() {
        assertTrue(Cidr.contains("10.0.0.0/8", "10.1.2.3"));
        assertFalse(Cidr.contains("10.0.0.0/8", "11.1.2.3"));
        assertTrue(Cidr.contains("192.168.1.0/25", "192.168.1.127"));
        assertFalse(Cidr.contains("192.168.1.0/25", "192.168.1.128"));
        assertTrue(Cidr.contains("127.0.0.1", "127.0.0.1"));
        assertTrue(Cidr.contains("::1/128", "::1"));
        assertFalse(Cidr.contains("10.0.0.0/8", "::1"));
        assertFalse("host names never resolve", Cidr.contains("10.0.0.0/8", "localhost"));
    }
}
