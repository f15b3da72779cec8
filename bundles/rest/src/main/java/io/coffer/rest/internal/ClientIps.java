package io.coffer.rest.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.servlet.http.HttpServletRequest;

import org.apache.cxf.message.Message;
import org.apache.cxf.phase.AbstractPhaseInterceptor;
import org.apache.cxf.phase.Phase;
import org.apache.cxf.transport.http.AbstractHTTPDestination;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.coffer.api.net.Cidr;
import io.coffer.api.rest.ClientIp;

/**
 * The one place that decides a request's client address ({@link ClientIp#ATTRIBUTE}), first in the API's CXF chain:
 * before JAX-RS and before any bundle's fast path (those order themselves after {@link #ID}). Trusted proxies and
 * balancers come from ConfigAdmin and change in place, without rebuilding the endpoint.
 *
 * <p>A connection to the node's PROXY-protocol listener (the one the load balancer uses; Jetty's
 * {@code ProxyConnectionFactory} reads the header and reports its source as the remote address) is believed only when
 * the connection's real peer is a trusted balancer; from anyone else the header's source is ignored and the client
 * is the peer itself. When the real peer can't be found for a request on that listener ({@code proxy.port}), the
 * address is {@link #UNKNOWN}: never the header's say.
 */
@Component(service = ClientIps.class, configurationPid = ClientIps.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = ClientIps.Config.class)
public class ClientIps extends AbstractPhaseInterceptor<Message> {
    static final String PID = "io.coffer.rest.clientip";
    /** The interceptor's id: a fast path that audits must run after it. */
    public static final String ID = ClientIp.DECIDER;
    static final String HEADER = "X-Forwarded-For";
    private static final Logger LOG = LoggerFactory.getLogger(ClientIps.class);

    @ObjectClassDefinition(name = "Coffer client addresses", description = "Whom X-Forwarded-For is believed from")
    public @interface Config {
        @AttributeDefinition(description = "Trusted proxies: IP addresses or CIDR networks, comma-separated. Empty "
                + "(the default): X-Forwarded-For is ignored and the client is the socket peer")
        String[] trusted_proxies() default {};

        @AttributeDefinition(description = "Trusted load balancers: IP addresses or CIDR networks whose PROXY protocol "
                + "header is believed on the PROXY listener. Empty (the default): the header's source is ignored and "
                + "the client is the balancer")
        String[] trusted_balancers() default {};

        @AttributeDefinition(description = "Port of the node's PROXY-protocol listener (0: none)")
        int proxy_port() default 0;
    }

    /** The address of a client whose connection can't be traced: it matches no CIDR, so restricted_to denies it. */
    static final String UNKNOWN = "0.0.0.0";

    private volatile List<Cidr> trusted = List.of();
    private volatile List<Cidr> balancers = List.of();
    private volatile int proxyPort;

    @Activate
    public ClientIps(Config config) {
        super(ID, Phase.RECEIVE);
        modified(config);
    }

    @Modified
    void modified(Config config) {
        trusted = parse(config == null ? new String[0] : config.trusted_proxies());
        balancers = parse(config == null ? new String[0] : config.trusted_balancers());
        proxyPort = config == null ? 0 : config.proxy_port();
        LOG.info("trusted proxies: {}; trusted balancers: {}", trusted.isEmpty() ? "none (X-Forwarded-For ignored)"
                : trusted, balancers.isEmpty() ? "none (PROXY headers ignored)" : balancers);
    }

    /** An entry that doesn't parse is left out (logged): an error in the list must never widen whom we trust. */
    static List<Cidr> parse(String[] entries) {
        List<Cidr> out = new ArrayList<>();
        for (String entry : entries) {
            for (String one : entry.split("[,\\s]+")) {
                if (one.isEmpty()) {
                    continue;
                }
                try {
                    out.add(Cidr.parse(one));
                } catch (IllegalArgumentException e) {
                    LOG.error("{}: ignoring the trusted address '{}': {}", PID, one, e.getMessage());
                }
            }
        }
        return List.copyOf(out);
    }

    @Override
    public void handleMessage(Message message) {
        HttpServletRequest request = (HttpServletRequest) message.get(AbstractHTTPDestination.HTTP_REQUEST);
        if (request != null) {
            request.setAttribute(ClientIp.ATTRIBUTE, decide(request));
        }
    }

    /** @return the PROXY listener's port, 0 when there is none */
    int proxyPort() {
        return proxyPort;
    }

    String decide(HttpServletRequest request) {
        String peer = request.getRemoteAddr();
        String balancer = ProxiedPeer.of(request);
        if (balancer == null) {
            if (proxyPort != 0 && request.getLocalPort() == proxyPort) {
                LOG.error("a request on the PROXY listener whose real peer can't be found: its address is {}",
                        UNKNOWN);
                return UNKNOWN;
            }
        } else if (!balancer.isEmpty() && !isTrusted(balancer, balancers)) {
            peer = balancer; // a PROXY header from someone we don't trust names nobody
        }
        List<Cidr> t = trusted;
        if (t.isEmpty()) {
            return peer;
        }
        List<String> headers = Collections.list(request.getHeaders(HEADER));
        return ForwardedFor.clientIp(peer, headers, t);
    }

    private static boolean isTrusted(String address, List<Cidr> list) {
        for (Cidr c : list) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
