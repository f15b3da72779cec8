package io.coffer.api.net;

import java.io.IOException;
import java.security.GeneralSecurityException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;

/**
 * The node's certificate from the cluster CA, for the links between nodes (audit forwarding): a TLS context that
 * presents it and trusts only that CA. Nodes find each other through load balancers and loopback addresses, so the
 * peer is proven by the chain to the cluster's own CA and named by its certificate's CN, not by a host name.
 */
public interface NodeTls {
    /**
     * @return a context with the node's key and the cluster CA as the only trust anchor, read from the files now
     *     (a renewed certificate is picked up by the next connection)
     * @throws IOException when the files can't be read (the node has no certificate)
     */
    SSLContext context() throws IOException, GeneralSecurityException;

    /**
     * @param session an established session whose peer presented a certificate
     * @return the CN of the peer's certificate (a node name), or {@code null} when it has none or none usable
     */
    String peerName(SSLSession session);
}
