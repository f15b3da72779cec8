package io.coffer.rest.internal;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import io.coffer.api.net.NodeTls;

/** The HTTP client a node uses to call a node's API (another's in a switchover's relay, its own in a warm-up). */
final class NodeClient {
    private NodeClient() {
    }

    /**
     * A started client trusting only the cluster CA and presenting this node's certificate; the peer's certificate
     * must name the address called (node certificates carry the node's name and addresses). No redirects followed,
     * no User-Agent of its own, answers' bodies left as they came (no transparent decoding).
     *
     * @throws IllegalStateException when the node has no certificate from the cluster CA
     */
    static HttpClient start(NodeTls tls) throws Exception {
        if (tls == null) {
            throw new IllegalStateException("this node has no certificate from the cluster CA");
        }
        SslContextFactory.Client ssl = new SslContextFactory.Client();
        ssl.setSslContext(tls.context());
        HttpClient c = new HttpClient(ssl);
        c.setUserAgentField(null);
        c.setFollowRedirects(false);
        c.setConnectTimeout(2000);
        c.start();
        c.getContentDecoderFactories().clear();
        return c;
    }
}
