package io.coffer.rest.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import org.apache.cxf.Bus;
import org.apache.cxf.BusFactory;
import org.apache.cxf.endpoint.Server;
import org.apache.cxf.jaxrs.JAXRSServerFactoryBean;
import org.apache.cxf.jaxrs.lifecycle.SingletonResourceProvider;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.jaxrs.json.JacksonJsonProvider;

import io.coffer.api.NodeIdentity;
import io.coffer.api.authn.AccessTokens;
import io.coffer.api.health.HealthService;
import io.coffer.api.store.Changes;
import io.coffer.api.store.Database;

/**
 * The one JAX-RS application, at the root path of the TLS connector. Resources of other bundles (the write side)
 * join it as services with {@code coffer.jaxrs.resource=true}; when they come or go the CXF endpoint is rebuilt in
 * place: the HTTP server and the core bundles keep running, so promotion or a feature install costs no restart.
 */
@Component(immediate = true)
public class ApiServer {
    /** Service property marking a JAX-RS root resource (or provider) that joins the application. */
    public static final String RESOURCE_PROPERTY = "coffer.jaxrs.resource";
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    private final List<Object> extensions = new CopyOnWriteArrayList<>();
    private final HealthService health;
    private final NodeIdentity node;
    private final ClientIps clientIps;
    private final Handover handover;
    private Bus bus;
    private Server server;
    /** The wrapper counting this server's requests, undone before the server is destroyed. */
    private RequestMetrics counted;
    /** CXF's own observer of the destination, given back before the server is destroyed. */
    private org.apache.cxf.transport.MessageObserver original;
    private boolean active;
    private Warmup warmup;
    // Optional, dynamic: a node keeps serving health while these come and go; the filters read them per request.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile AccessTokens tokens;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Database database;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Changes changes;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.crypto.KeyState keys;
    /** Present in an auto-failover cluster: the epoch, and whether this Leader may take writes. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.election.Leadership leadership;
    /** Where an integrity failure is recorded, when the audit bundle runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.audit.Audit audit;
    /** Installed authenticators, for /info. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<io.coffer.api.authn.Authenticator> authenticators = new CopyOnWriteArrayList<>();
    /** Request counts and latencies by route template, when the metrics bundle runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile io.coffer.api.metrics.Metrics metrics;
    /** The node's certificate from the cluster CA, for a Standby's warm-up requests to itself. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile io.coffer.api.net.NodeTls tls;

    @Activate
    public ApiServer(@Reference HealthService health, @Reference NodeIdentity node, @Reference ClientIps clientIps,
            @Reference Handover handover) {
        this.health = health;
        this.handover = handover;
        this.node = node;
        this.clientIps = clientIps;
    }

    @Activate
    synchronized void activate() {
        bus = BusFactory.newInstance().createBus();
        // Without a ClassLoader extension, CXF's servlet asks the bus's ResourceManager for one on every request,
        // and its classpath resolver scans the system class path each time: ~5 ms a request, most of its cost.
        bus.setExtension(ApiServer.class.getClassLoader(), ClassLoader.class);
        active = true;
        warmup = new Warmup(node::role, () -> tls, clientIps::proxyPort, "127.0.0.1");
        rebuild();
    }

    @Reference(service = Object.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, target = "(" + RESOURCE_PROPERTY + "=true)")
    synchronized void addExtension(Object extension) {
        extensions.add(extension);
        if (active) {
            rebuild();
        }
    }

    synchronized void removeExtension(Object extension) {
        extensions.remove(extension);
        if (active) {
            rebuild();
        }
    }

    private void rebuild() {
        destroyServer();
        JAXRSServerFactoryBean f = new JAXRSServerFactoryBean();
        f.setBus(bus);
        f.setAddress("/");
        // The client address is decided first, before any fast path or filter that audits.
        f.getInInterceptors().add(clientIps);
        List<Object> providers = new ArrayList<>();
        providers.add(new JacksonJsonProvider());
        providers.add(new ApiErrors(() -> audit));
        providers.add(new RequestIds());
        providers.add(new RoleGate(node));
        providers.add(new KeysGate(() -> keys));
        providers.add(new LeaderGate(node, () -> leadership));
        providers.add(new TokenAuthFilter(() -> tokens));
        providers.add(new WriteHeaders(node, () -> database, () -> changes, () -> leadership));
        List<Class<?>> classes = new ArrayList<>();
        f.setResourceProvider(HealthResource.class, new SingletonResourceProvider(new HealthResource(health)));
        classes.add(HealthResource.class);
        f.setResourceProvider(StatusResource.class, new SingletonResourceProvider(new StatusResource(node, health, () -> authenticators.stream()
                .map(io.coffer.api.authn.Authenticator::name).sorted().distinct().collect(Collectors.toList()))));
        classes.add(StatusResource.class);
        f.setResourceProvider(WritesResource.class, new SingletonResourceProvider(new WritesResource(() -> database)));
        classes.add(WritesResource.class);
        for (Object e : extensions) {
            if (e instanceof org.apache.cxf.interceptor.Interceptor) {
                // A bundle's fast path ahead of JAX-RS routing (the secrets bundle's warm secret read).
                @SuppressWarnings("unchecked")
                org.apache.cxf.interceptor.Interceptor<? extends org.apache.cxf.message.Message> i =
                        (org.apache.cxf.interceptor.Interceptor<? extends org.apache.cxf.message.Message>) e;
                f.getInInterceptors().add(i);
            } else if (e.getClass().isAnnotationPresent(javax.ws.rs.Path.class)) {
                f.setResourceProvider(e.getClass(), new SingletonResourceProvider(e));
                classes.add(e.getClass());
            } else {
                providers.add(e);
            }
        }
        f.setResourceClasses(classes);
        f.setProviders(providers);
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(ApiServer.class.getClassLoader());
        try {
            server = f.create();
            count(server);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
        LOG.info("API application published at / with {} resource classes", classes.size());
        warmup.soon();
    }

    /**
     * Every request to {@code s} is reported to {@link #metrics} once answered (see {@link RequestMetrics}), and
     * passes the switchover's gate ({@link Handover}) before anything else sees it.
     */
    private void count(Server s) {
        org.apache.cxf.transport.Destination d = s.getDestination();
        List<org.apache.cxf.jaxrs.model.ClassResourceInfo> resources =
                ((org.apache.cxf.jaxrs.JAXRSServiceImpl) s.getEndpoint().getService()).getClassResourceInfos();
        original = d.getMessageObserver();
        counted = new RequestMetrics(handover.wrap(original), resources, () -> metrics);
        d.setMessageObserver(counted);
    }

    private void destroyServer() {
        if (server != null) {
            // Give CXF back its own observer, so its shutdown finds what it installed.
            if (counted != null && server.getDestination().getMessageObserver() == counted) {
                server.getDestination().setMessageObserver(original);
            }
            counted = null;
            server.destroy();
            server = null;
        }
    }

    @Deactivate
    synchronized void deactivate() {
        active = false;
        warmup.close();
        destroyServer();
        if (bus != null) {
            bus.shutdown(true);
        }
    }
}
