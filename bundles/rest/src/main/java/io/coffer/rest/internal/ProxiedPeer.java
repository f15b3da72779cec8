package io.coffer.rest.internal;

import java.net.InetSocketAddress;

import javax.servlet.ServletRequest;

import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;

/**
 * The real TCP peer of a request that came through the PROXY-protocol listener: Jetty then reports the header's
 * source as the remote address, and the connection's own peer (the balancer) is only on the endpoint under TLS.
 * (Jetty 9.4's ProxyCustomizer looks for it on the request's endpoint itself, so it misses it under TLS.)
 */
final class ProxiedPeer {
    private ProxiedPeer() {
    }

    /**
     * @return the address of the peer that sent the PROXY header, {@code ""} when the request came without one, or
     *     {@code null} when Jetty's request can't be reached (the caller must then not believe the remote address)
     */
    static String of(ServletRequest request) {
        Request base = Request.getBaseRequest(request);
        if (base == null || base.getHttpChannel() == null) {
            return null;
        }
        EndPoint endPoint = base.getHttpChannel().getEndPoint();
        if (endPoint instanceof SslConnection.DecryptedEndPoint) {
            endPoint = ((SslConnection.DecryptedEndPoint) endPoint).getSslConnection().getEndPoint();
        }
        if (!(endPoint instanceof ProxyConnectionFactory.ProxyEndPoint)) {
            return "";
        }
        InetSocketAddress real = ((ProxyConnectionFactory.ProxyEndPoint) endPoint).unwrap().getRemoteAddress();
        return real == null || real.getAddress() == null ? null : real.getAddress().getHostAddress();
    }
}
